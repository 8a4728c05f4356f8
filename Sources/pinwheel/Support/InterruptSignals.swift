import Dispatch
import Foundation
import Synchronization

/// `apply`'s Ctrl-C: the first SIGINT or SIGTERM cancels the task running the rollout, which stops at its next safe
/// point (never in the middle of a host's switch) and reports each host's state; a second one ends the process at
/// once, as the signal would have.
enum InterruptSignals {
    /// Exit status of a command a signal stopped at a safe point: 128 + the signal, as the shell reports a process
    /// the signal ended (130 for SIGINT, 143 for SIGTERM).
    static func exitStatus(_ signal: Int32) -> Int32 { 128 + signal }

    /// Runs `body` on a task the first SIGINT or SIGTERM cancels; returns its result and that signal, if one came.
    static func run<T: Sendable>(notice: String, _ body: @escaping @Sendable () async -> T) async -> (result: T, signal: Int32?) {
        let task = Task { await body() }
        let received = Received()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if received.first(number) {
                    StandardError.write(notice)
                    task.cancel()
                } else {
                    signal(number, SIG_DFL)
                    raise(number)
                }
            }
            source.resume()
            sources.append(source)
        }
        let result = await task.value
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        return (result, received.signal)
    }

    /// The first signal received, 0 until one is.
    private final class Received: Sendable {
        private let value = Atomic<Int32>(0)

        /// Records `number` when it is the first signal; true then.
        func first(_ number: Int32) -> Bool {
            value.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing).exchanged
        }

        var signal: Int32? {
            let number = value.load(ordering: .acquiring)
            return number == 0 ? nil : number
        }
    }
}
