/// `promotion: {from: staging, soak: 30m}` in a policy: the environment applies a set of pins only after the
/// environment `from` ran exactly those pins, converged and healthy, for at least `soak` (see ``PromotionGate``).
public struct Promotion: Sendable, Hashable, Codable {
    /// The environment whose status history vouches for the pins.
    public var from: String
    /// How long it must have run them.
    public var soak: ConfigDuration

    public init(from: String, soak: ConfigDuration) {
        self.from = from
        self.soak = soak
    }
}
