import CGit2
import CGit2Shims
import Foundation
import Synchronization

/// Runs one network operation on its own thread under a deadline.
///
/// Why a dedicated thread: libgit2 blocks in socket reads (and libssh2 in its own poll
/// loop), which must not happen on Swift's cooperative pool. Why a watchdog: a remote that
/// accepts the connection and then says nothing triggers no libgit2 callback at all. Our
/// socket stream (CGit2Shims) registers every socket of the operation and polls with the
/// deadline; when the deadline passes (or the task is cancelled) the watchdog shuts the
/// sockets down so any blocked read, ours or libssh2's, returns at once.
final class NetworkOperation: Sendable {
    /// The C `pw_op *`; lives as long as this object.
    nonisolated(unsafe) let op: OpaquePointer
    let deadline: Duration
    let target: String
    private let cancelled = Atomic<Bool>(false)

    init(deadline: Duration, target: String) {
        self.deadline = deadline
        self.target = target
        op = pw_op_new(max(deadline.milliseconds, 1))!
    }

    deinit {
        pw_op_release(op)
    }

    var isExpired: Bool { pw_op_is_expired(op) != 0 }
    var wasCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func expire() { pw_op_expire(op) }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        pw_op_expire(op)
    }

    /// The error to report once the operation failed after the deadline or a cancellation.
    func abortError(underlying: GitError?) -> GitError? {
        if wasCancelled {
            return GitError(.cancelled, "cancelled", context: target)
        }
        guard isExpired else { return nil }
        var error = GitError(.timeout, "no complete answer within \(deadline)", context: target,
                             hint: "the remote is slow or unreachable; the operation was aborted")
        if let underlying {
            error.message += " (\(underlying.message))"
            error.errorClass = underlying.errorClass
            error.returnCode = underlying.returnCode
        }
        return error
    }

    /// Runs `body` on a new thread with this operation current for the socket stream,
    /// arming the watchdog; returns when the body does (which the watchdog guarantees
    /// happens shortly after the deadline).
    static func run<T: Sendable>(deadline: Duration, target: String,
                                 _ body: @escaping @Sendable (NetworkOperation) throws(GitError) -> T) async throws(GitError) -> T {
        LibGit2.ensureInitialized()
        let operation = NetworkOperation(deadline: deadline, target: target)
        // A timer source, not `asyncAfter`: a cancelled source is released at once, where a cancelled work item
        // stays queued (holding the operation) until its deadline, dozens of them for a controller polling fast.
        let watchdog = DispatchSource.makeTimerSource(queue: .global())
        watchdog.setEventHandler { [weak operation] in operation?.expire() }
        watchdog.schedule(deadline: .now() + .milliseconds(Int(deadline.milliseconds)))
        let result: Result<T, GitError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, GitError>, Never>) in
                let thread = Thread {
                    pw_op_set_current(operation.op)
                    let result = Result<T, GitError> { () throws(GitError) -> T in
                        if operation.wasCancelled { throw GitError(.cancelled, "cancelled", context: target) }
                        return try body(operation)
                    }
                    pw_op_set_current(nil)
                    continuation.resume(returning: result)
                }
                thread.name = "pinwheel-git-network"
                thread.stackSize = 8 << 20
                thread.start()
                watchdog.activate()
            }
        } onCancel: {
            operation.cancel()
        }
        watchdog.cancel()
        return try result.get()
    }
}
