import Foundation

/// An environment's lease as the coordination store has it: who holds it, under which epoch, and until when.
public struct LeaseRecord: Sendable, Hashable {
    public var environment: String
    /// The replica holding it.
    public var holder: String
    /// Raised each time the lease changes hands: the fencing token.
    public var epoch: Int64
    /// When it was last acquired or renewed, by the store's clock.
    public var renewedAt: Date
    public var duration: ConfigDuration

    public init(environment: String, holder: String, epoch: Int64, renewedAt: Date, duration: ConfigDuration) {
        self.environment = environment
        self.holder = holder
        self.epoch = epoch
        self.renewedAt = renewedAt
        self.duration = duration
    }

    /// When it ends unless renewed, by the store's clock.
    public var expiresAt: Date { renewedAt.addingTimeInterval(duration.seconds) }
}
