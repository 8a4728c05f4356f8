import Synchronization

/// Wakes the controller's loop before its interval is up: a webhook arrived, or a shutdown began.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Pending until a wait returns for it, even when it resumes a waiter: that waiter may be one whose wait is
    /// already ending by its timeout, and then the next wait must not miss the signal.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.pending = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after `timeout`, or at once when signalled (now or since the last wait); true when signalled.
    @discardableResult
    func wait(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
        // Signalled while this wait ran, or as its timeout ended: either way the signal is taken now.
        return state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // Checked under the lock that the cancellation handler takes too, so no wake-up is lost. A
                    // pending signal stays pending: `wait` takes it once the wait is over.
                    if state.pending || Task.isCancelled {
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }
    }
}
