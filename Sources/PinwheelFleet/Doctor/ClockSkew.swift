/// Judges a host's clock against the controller's from one round trip.
///
/// The host read its clock somewhere between the moment the controller started the round trip and the moment the
/// answer arrived, so its offset lies in `[hostTime - answered, hostTime - started]`; only when that whole interval
/// lies beyond `limit` is the clock called wrong, so a slow connection never makes a good clock look skewed.
/// Clocks matter to Pinwheel for deploy windows and for the times in status commits.
public struct ClockSkew: Sendable, Hashable {
    /// The host's offset from the controller, at least this many seconds (negative: the host is behind).
    public var lowest: Double
    public var highest: Double

    /// Seconds of skew tolerated.
    public static let limit = 2.0

    public init(hostTime: Double, started: Double, answered: Double) {
        lowest = hostTime - answered
        highest = hostTime - started
    }

    /// The offset most likely, for messages: the middle of the interval.
    public var estimate: Double { (lowest + highest) / 2 }

    public var withinLimit: Bool { highest >= -Self.limit && lowest <= Self.limit }

    public var check: HostCheck {
        let offset = estimate
        let what = offset >= 0 ? "ahead of" : "behind"
        let seconds = (abs(offset) * 10).rounded() / 10
        return HostCheck(
            name: "clock", ok: withinLimit,
            detail: "the host's clock is about \(seconds) s \(what) this machine's (limit \(Self.limit) s)",
            fix: "run a time service on the host and on this machine: sudo apt-get install systemd-timesyncd (or chrony)")
    }
}
