import Foundation
import PinwheelCore
import PinwheelProcess
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One agent process on one host over one ssh session, kept while a controller runs, answering one framed request
/// after another (see `pinwheel_resident.py`).
///
/// It carries one request at a time (``ResidentSessions`` hands a session to one caller at a time). A request past
/// its deadline kills the session, as a one-shot round trip is killed; a session whose ssh or agent ended is noticed
/// as soon as its output ends, even while idle, so the next request gets a fresh one. Standard error is kept bounded
/// (its last ``errorLimit`` bytes) for the error a person reads; the reply frame is bounded by
/// ``UntrustedText/replyLimit`` before it is kept.
final class ResidentSession: Sendable {
    /// The last bytes of standard error kept for an error's detail.
    static let errorLimit = 16 << 10
    /// How long a session that was told to end may take before it is killed.
    static let endGrace = Duration.seconds(5)

    struct Job: Sendable {
        var frame: [UInt8]
        var timeout: Duration
        var done: CheckedContinuation<ResidentOutcome, Never>
    }

    /// What the session's reader and its loop share.
    final class Shared: Sendable {
        struct State {
            var alive = true
            var errors: [UInt8] = []
            var process: ProcessIdentifier?
            var answered = 0
            /// The request in flight passed its deadline (and the session was killed for it).
            var deadlinePassed = false
        }

        let state = Mutex(State())
        let jobs: AsyncStream<Job>.Continuation

        init(jobs: AsyncStream<Job>.Continuation) {
            self.jobs = jobs
        }

        func keepErrors(_ bytes: some Collection<UInt8>) {
            state.withLock {
                $0.errors.append(contentsOf: bytes)
                if $0.errors.count > 2 * ResidentSession.errorLimit { $0.errors.removeFirst($0.errors.count - ResidentSession.errorLimit) }
            }
        }

        var errors: String {
            state.withLock { String(decoding: $0.errors.suffix(ResidentSession.errorLimit), as: UTF8.self) }
        }

        /// The session can take no more requests: the ones waiting are answered when the process has ended.
        func end() {
            state.withLock { $0.alive = false }
            jobs.finish()
        }

        func killProcess() {
            guard let process = state.withLock({ $0.process }) else { return }
            kill(process.value, SIGKILL)
        }
    }

    private let shared: Shared
    private let runner: Task<Void, Never>

    /// A session writes to an ssh client that may have died (its host went down): that must be an error on the
    /// write, not SIGPIPE's default, which ends the whole controller. Ignored once, only if nobody chose otherwise
    /// (as the git side does for libssh2).
    private static let brokenPipesIgnored: Void = {
        var current = sigaction()
        if sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
            signal(SIGPIPE, SIG_IGN)
        }
    }()

    /// Starts `ssh arguments` (whose remote command is ``ResidentScript/command(python:)``) and sends it the agent.
    init(path: String = "/usr/bin/ssh", arguments: [String], agentFrame: [UInt8] = ResidentScript.agentFrame) {
        Self.brokenPipesIgnored
        let (jobs, continuation) = AsyncStream.makeStream(of: Job.self)
        let shared = Shared(jobs: continuation)
        self.shared = shared
        runner = Task.detached {
            await Self.run(path: path, arguments: arguments, agentFrame: agentFrame, jobs: jobs, shared: shared)
        }
    }

    /// Whether the session can take a request: its process runs and its output has not ended.
    var isAlive: Bool { shared.state.withLock { $0.alive } }

    /// Requests answered so far.
    var answered: Int { shared.state.withLock { $0.answered } }

    /// The ssh client's process, while it runs (for tests).
    var processID: pid_t? { shared.state.withLock { $0.process?.value } }

    /// Sends one request (its JSON) and waits for its reply, at most `timeout`. Cancelling the task kills the session.
    func send(_ request: [UInt8], timeout: Duration) async -> ResidentOutcome {
        let frame = AgentFrame.encode(request)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { done in
                if case .terminated = shared.jobs.yield(Job(frame: frame, timeout: timeout, done: done)) {
                    done.resume(returning: .ended(status: nil, errors: shared.errors, delivered: false))
                }
            }
        } onCancel: {
            shared.killProcess()
        }
    }

    /// Ends the session (end of input: the host's loop returns) and waits until its process has ended; one that
    /// lingers past ``endGrace`` is killed.
    func close() async {
        shared.end()
        await runner.value
    }

    private static func run(path: String, arguments: [String], agentFrame: [UInt8], jobs: AsyncStream<Job>,
                            shared: Shared) async {
        var options = PlatformOptions()
        // A process group of its own, as a one-shot round trip's: a Ctrl-C at the terminal never cuts it.
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        var unanswered: [(job: Job, delivered: Bool)] = []
        var status: Int32?
        do {
            // Output and errors through pipes of our own, read only when readable: an idle session holds no read
            // buffer (see ``PipeReader``).
            let output = try PipeReader()
            let errors = try PipeReader()
            let result = try await Subprocess.run(
                .path(FilePath(path)), arguments: Arguments(arguments), platformOptions: options, input: .inputWriter,
                output: .fileDescriptor(output.writeEnd, closeAfterSpawningProcess: true),
                error: .fileDescriptor(errors.writeEnd, closeAfterSpawningProcess: true)
            ) { execution in
                await serve(execution.processIdentifier, writer: execution.standardInputWriter, output: output.chunks,
                            errors: errors.chunks, agentFrame: agentFrame, jobs: jobs, shared: shared)
            }
            unanswered = result.closureResult
            switch result.terminationStatus {
            case let .exited(code): status = code
            case let .signaled(signal): status = 128 + signal
            }
        } catch {
            shared.keepErrors(Array("cannot run \(path): \(error)".utf8))
        }
        // Its identifier may be another process's from now on: nothing signals it any more.
        shared.state.withLock { $0.process = nil }
        shared.end()
        let errors = shared.errors
        for (job, delivered) in unanswered {
            job.done.resume(returning: .ended(status: status, errors: errors, delivered: delivered))
        }
        // The stream is finished: what it still holds, it hands over, then ends.
        for await job in jobs {
            job.done.resume(returning: .ended(status: status, errors: errors, delivered: false))
        }
    }

    /// What a reader of the session's output saw.
    private enum Event: Sendable {
        case frame([UInt8])
        case ended
        case broken(String)
    }

    /// Sends the agent, then each job's request, and hands each reply to its job; returns the job the session ended
    /// under without an answer (and whether its request was written whole).
    private static func serve(_ process: ProcessIdentifier, writer: StandardInputWriter, output: AsyncStream<[UInt8]>,
                              errors: AsyncStream<[UInt8]>, agentFrame: [UInt8], jobs: AsyncStream<Job>,
                              shared: Shared) async -> [(job: Job, delivered: Bool)] {
        shared.state.withLock { $0.process = process }
        let (events, eventInput) = AsyncStream.makeStream(of: Event.self)
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await chunk in errors {
                    chunk.withUnsafeBytes { shared.keepErrors($0) }
                }
            }
            group.addTask {
                var reader = AgentFrameReader(limit: UntrustedText.replyLimit)
                do {
                    for await chunk in output {
                        chunk.withUnsafeBytes { reader.append($0) }
                        while let frame = try reader.next() { eventInput.yield(.frame(frame)) }
                    }
                    eventInput.yield(.ended)
                } catch {
                    eventInput.yield(.broken("\(error)"))
                }
                eventInput.finish()
                // Noticed while idle too: no request is handed to a session whose output ended.
                shared.end()
            }
            var unanswered: [(job: Job, delivered: Bool)] = []
            var replies = events.makeAsyncIterator()
            var pending = jobs.makeAsyncIterator()
            var working = (try? await writer.write(agentFrame)) != nil
            while working, let job = await pending.next() {
                shared.state.withLock { $0.deadlinePassed = false }
                let watchdog = Task {
                    guard (try? await Task.sleep(for: job.timeout)) != nil else { return }
                    shared.state.withLock { $0.deadlinePassed = true }
                    shared.killProcess()
                }
                // A session whose output ended (noticed while idle) is not written to: the request never reaches it.
                let written = shared.state.withLock({ $0.alive }) ? (try? await writer.write(job.frame)) != nil : false
                let event: Event? = written ? await replies.next() : nil
                watchdog.cancel()
                if shared.state.withLock({ $0.deadlinePassed }) {
                    job.done.resume(returning: .timedOut)
                    working = false
                } else if case let .frame(reply)? = event {
                    shared.state.withLock { $0.answered += 1 }
                    job.done.resume(returning: .reply(reply))
                } else if case let .broken(why)? = event {
                    shared.killProcess()
                    job.done.resume(returning: .broken(why))
                    working = false
                } else {
                    unanswered.append((job, written))
                    working = false
                }
            }
            shared.end()
            try? await writer.finish()
            let reaper = Task {
                guard (try? await Task.sleep(for: endGrace)) != nil else { return }
                shared.killProcess()
            }
            await group.waitForAll()
            reaper.cancel()
            return unanswered
        }
    }
}
