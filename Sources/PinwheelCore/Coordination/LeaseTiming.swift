/// How long an environment's lease lasts and how its holder keeps it, with the discipline Kubernetes leader election
/// uses: a holder renews every `retryPeriod`, and stops acting when it has not renewed within `renewDeadline`,
/// which is shorter than `duration`, so it has stopped before any other replica may take the lease over.
public struct LeaseTiming: Sendable, Hashable {
    /// How long a lease is valid after its last renewal: another replica takes it over only after this.
    public var duration: ConfigDuration
    /// How long a holder may go without a successful renewal before it stops acting.
    public var renewDeadline: ConfigDuration
    /// How often a holder renews, and a candidate tries to acquire.
    public var retryPeriod: ConfigDuration

    /// Kubernetes' defaults for its controllers: 15 s, 10 s, 2 s.
    public static let recommended = LeaseTiming(duration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2))

    public init(duration: ConfigDuration, renewDeadline: ConfigDuration, retryPeriod: ConfigDuration) {
        self.duration = duration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// Why these timings are unsafe, or nil: a renew deadline must leave room for clock drift between replicas
    /// before the lease ends, and renewals must fit in the deadline more than once.
    public var problem: String? {
        if retryPeriod.milliseconds < 100 { return "the retry period must be at least 100ms" }
        if renewDeadline.milliseconds * 10 > duration.milliseconds * 9 {
            return "the renew deadline (\(renewDeadline)) must be at most 90% of the lease duration (\(duration)), so a holder stops acting before its lease can end anywhere else"
        }
        if retryPeriod.milliseconds * 2 > renewDeadline.milliseconds {
            return "the retry period (\(retryPeriod)) must be at most half the renew deadline (\(renewDeadline)), so one failed renewal does not stop the holder"
        }
        return nil
    }
}
