import Foundation

/// Whether an environment with `promotion: {from: staging, soak: 30m}` may apply its active slot's pins, from what
/// the status branch says staging ran. Pure: the caller reads staging's statuses and says what time it is.
///
/// The rule: if the newest staging status with exactly these pins (same versions, same python) halted, the pins are
/// refused. Otherwise they may be applied once staging ran them converged with every host healthy, without a
/// status in between that says otherwise, for at least `soak` (the run lasts until the next status that differs,
/// or until now). Until then the environment waits.
public enum PromotionGate {
    /// What the environment would apply, or what a staging status says staging ran.
    public struct Pins: Sendable, Hashable, CustomStringConvertible {
        /// `name==version`, sorted.
        public var pins: [String]
        public var python: String?

        public init(pins: [String], python: String?) {
            self.pins = pins.sorted()
            self.python = python
        }

        /// What `environment`'s active slot pins, with the interpreter it builds them with.
        public init(activeOf environment: Environment) {
            self.init(pins: environment.slots[environment.active].pins.map(\.description),
                      python: environment.python(of: environment.active))
        }

        public var description: String {
            (pins.isEmpty ? "no pins" : pins.joined(separator: ", ")) + (python.map { " (python \($0))" } ?? "")
        }
    }

    /// One status of the environment the pins come from.
    public struct Observed: Sendable, Hashable {
        public var time: Date
        public var result: EnvironmentStatus.Result
        public var ran: Pins
        /// Every host healthy and serving the desired slot.
        public var healthy: Bool
        public var desired: String

        public init(time: Date, result: EnvironmentStatus.Result, ran: Pins, healthy: Bool, desired: String) {
            self.time = time
            self.result = result
            self.ran = ran
            self.healthy = healthy
            self.desired = desired
        }

        /// A status as committed to the status branch; nil when its time cannot be read.
        public init?(_ status: EnvironmentStatus) {
            guard let time = Timestamp.date(from: status.time) else { return nil }
            self.init(time: time, result: status.result, ran: Pins(pins: status.pins, python: status.python),
                      healthy: !status.hosts.isEmpty && status.healthyHosts == status.hosts.count, desired: status.desired)
        }
    }

    public enum Decision: Sendable, Hashable {
        /// Staging ran the pins long enough, from `since`.
        case open(since: Date)
        /// Not yet: why, and when the soak ends if staging is soaking them now.
        case waiting(String, until: Date?)
        /// Staging halted on these pins.
        case refused(String)
    }

    /// The decision for `candidate`, from `history` (staging's statuses, any order), at `now`.
    public static func decide(_ candidate: Pins, history: [Observed], from source: String, soak: TimeInterval, now: Date) -> Decision {
        let ordered = history.sorted { $0.time < $1.time }
        if let newest = halt(of: candidate, in: ordered) {
            return .refused("\(source) halted on these pins (\(candidate)) at \(stamp(newest.time)), "
                            + "commit \(newest.desired.prefix(10)); nothing applied")
        }
        // Consecutive good statuses make one run; it lasts at least until the status after it (or now).
        var runStart: Date?
        for (index, status) in ordered.enumerated() {
            guard isGood(status, candidate) else {
                runStart = nil
                continue
            }
            let start = runStart ?? status.time
            runStart = start
            let end = index + 1 < ordered.count ? ordered[index + 1].time : now
            if end.timeIntervalSince(start) >= soak { return .open(since: start) }
        }
        if let start = runStart {
            let until = start.addingTimeInterval(soak)
            return .waiting("soaking in \(source): it has run these pins converged since \(stamp(start)); "
                            + "promotes at \(stamp(until))", until: until)
        }
        guard let latest = ordered.last else {
            return .waiting("\(source) has no status yet; waiting until it runs \(candidate) converged for \(duration(soak))", until: nil)
        }
        return .waiting("\(source) has \(latest.ran) (\(latest.result.rawValue) at \(stamp(latest.time))), not \(candidate); "
                        + "waiting until it runs them converged for \(duration(soak))", until: nil)
    }

    /// The status that refuses `candidate`: the newest of `history` with exactly these pins, when it halted.
    public static func halt(of candidate: Pins, in history: [Observed]) -> Observed? {
        guard let newest = history.filter({ $0.ran == candidate }).max(by: { $0.time < $1.time }), newest.result == .halted else {
            return nil
        }
        return newest
    }

    static func isGood(_ status: Observed, _ candidate: Pins) -> Bool {
        status.ran == candidate && status.result == .converged && status.healthy
    }

    static func stamp(_ date: Date) -> String {
        Timestamp.string(from: date)
    }

    static func duration(_ seconds: TimeInterval) -> String {
        ConfigDuration(milliseconds: Int64(seconds * 1000)).description
    }
}
