import Foundation

/// A replica's own view of a lease it holds: whether it may still act on the environment.
///
/// Measured from when a renewal was *sent* (on the replica's monotonic clock), not when it was answered: a renewal
/// that took long to come back may have been granted at the start, and the lease counts from the database's time of
/// the grant, which is no earlier than the sending. So a holder that stops at `sent + renewDeadline` stops before
/// `granted + duration` on any clock that drifts less than `duration - renewDeadline`.
public struct LeaseHolding: Sendable, Hashable {
    public var environment: String
    /// The fencing token: every request to a host carries it; hosts refuse lower ones.
    public var epoch: Int64
    public let timing: LeaseTiming
    /// When the last successful renewal (or the acquisition) was sent, in seconds on a monotonic clock.
    public private(set) var renewedAt: TimeInterval

    public init(environment: String, epoch: Int64, timing: LeaseTiming, acquiredAt sent: TimeInterval) {
        self.environment = environment
        self.epoch = epoch
        self.timing = timing
        self.renewedAt = sent
    }

    /// Whether the holder may act at `now`: before its renew deadline.
    public func mayAct(at now: TimeInterval) -> Bool {
        now - renewedAt < timing.renewDeadline.seconds
    }

    /// When it must stop acting, unless it renews first.
    public var actsUntil: TimeInterval { renewedAt + timing.renewDeadline.seconds }

    /// When the next renewal is due.
    public var renewsAt: TimeInterval { renewedAt + timing.retryPeriod.seconds }

    /// A renewal sent at `sent` succeeded for `epoch`. A renewal that comes back with another epoch means the lease
    /// was lost in between: the caller must stop (`false`).
    public mutating func renewed(sentAt sent: TimeInterval, epoch: Int64) -> Bool {
        guard epoch == self.epoch else { return false }
        renewedAt = max(renewedAt, sent)
        return true
    }
}
