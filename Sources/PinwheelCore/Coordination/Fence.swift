/// A host's fence for one environment: the highest lease epoch it has seen. A request with a lower epoch comes from a
/// controller that lost its lease (paused, partitioned) and is refused, so it can no longer change the host.
public struct Fence: Sendable, Hashable, Codable {
    public private(set) var highest: Int64

    public init(highest: Int64 = 0) {
        self.highest = highest
    }

    public enum Decision: Sendable, Hashable {
        case admit
        /// Refused: the request's epoch is below what the host has seen.
        case refuse(seen: Int64)
    }

    /// Whether a request with `epoch` may act, and the fence after it (raised to `epoch` when admitted).
    public mutating func admit(_ epoch: Int64) -> Decision {
        guard epoch >= highest else { return .refuse(seen: highest) }
        highest = epoch
        return .admit
    }
}
