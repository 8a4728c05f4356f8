import Foundation

/// The bound port of a ``ControlServer``, shared between its `run()` (which learns it once the
/// socket is bound) and whoever asks ``ControlServer/listeningPort()`` (which may be waiting).
final class ListeningState: @unchecked Sendable {
    private enum Phase {
        case starting([CheckedContinuation<Int, any Error>])
        case listening(Int)
        case stopped
    }

    private let lock = NSLock()
    private var phase = Phase.starting([])
    private var everListened = false

    /// Whether the socket was ever bound (so a failure of `run()` is not a failure to listen).
    var hasListened: Bool { lock.withLock { everListened } }

    /// The socket is bound: answer every waiter.
    func listening(on port: Int) {
        let waiters: [CheckedContinuation<Int, any Error>] = lock.withLock {
            guard case .starting(let waiters) = phase else { return [] }
            phase = .listening(port)
            everListened = true
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The server stopped (or failed before binding): waiters learn it has no port.
    func stopped() {
        let waiters: [CheckedContinuation<Int, any Error>] = lock.withLock {
            defer { phase = .stopped }
            if case .starting(let waiters) = phase { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(throwing: ControlServerError.notListening) }
    }

    /// The bound port, waiting for the bind if the server is starting.
    func port() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let answer: Result<Int, any Error>? = lock.withLock {
                switch phase {
                case .starting(var waiters):
                    waiters.append(continuation)
                    phase = .starting(waiters)
                    return nil
                case .listening(let port):
                    return .success(port)
                case .stopped:
                    return .failure(ControlServerError.notListening)
                }
            }
            if let answer { continuation.resume(with: answer) }
        }
    }
}
