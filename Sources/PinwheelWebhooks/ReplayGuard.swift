import Crypto
import Synchronization

/// Remembers the authentic pushes recently accepted, so a delivery sent again (a captured request replayed, or a
/// git host retrying) triggers nothing.
///
/// A delivery is known by its id header when it has one and, always, by the SHA-256 of its route and body: a
/// GitHub signature covers only the body, so a replay with a new delivery id is still caught by its body. A real
/// new push has a new body (its `after` commit differs). Bounded: the oldest entries are forgotten first.
///
/// A generic webhook is different: its token proves who sent it, its body is whatever the sender likes (often the
/// same every time, or empty), and "push again" is exactly what it is for. It is known by its id header only: one
/// without an id is a new push even when its body repeats an earlier one.
final class ReplayGuard: Sendable {
    private struct State {
        var seen: Set<String> = []
        var order: [String] = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// Records the delivery; false when any of its keys was recorded before (a replay).
    func isFirst(form: WebhookForm, deliveryID: String?, body: [UInt8]) -> Bool {
        var keys: [String] = []
        if form != .generic { keys.append("body:\(form):" + SHA256.hash(data: body).map { String($0, radix: 16) }.joined()) }
        if let deliveryID { keys.append("delivery:\(form):\(deliveryID)") }
        if keys.isEmpty { return true }
        return state.withLock { state in
            guard keys.allSatisfy({ !state.seen.contains($0) }) else { return false }
            for key in keys {
                state.seen.insert(key)
                state.order.append(key)
            }
            while state.order.count > capacity {
                state.seen.remove(state.order.removeFirst())
            }
            return true
        }
    }
}
