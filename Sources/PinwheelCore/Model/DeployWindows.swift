import Foundation

/// When a policy lets the controller change the fleet: `allow`/`deny` rules in a time zone, an explicit freeze, and
/// whether rollbacks obey them.
///
/// A time is open when no deny rule and no freeze holds it and, when there are allow rules, one of them holds it.
/// Pure: the caller hands in the time, so tests decide what the clock says.
public struct DeployWindows: Sendable, Hashable, Codable {
    public var rules: [Rule]
    /// The reason of an explicit freeze: nothing opens until the policy changes.
    public var freeze: String?
    public var rollbacks: RollbackRule

    /// How far ahead `decision(at:rollback:)` looks for the next opening.
    public static let horizon: TimeInterval = 8 * 24 * 3600

    public init(rules: [Rule] = [], freeze: String? = nil, rollbacks: RollbackRule = .allowed) {
        self.rules = rules
        self.freeze = freeze
        self.rollbacks = rollbacks
    }

    public enum RollbackRule: String, Sendable, Hashable, Codable, CaseIterable {
        /// A rollback (a switch back to the warm slot) goes through whatever the windows and freeze say.
        case allowed
        /// A rollback waits for the windows like any other change.
        case windows
    }

    public enum Effect: String, Sendable, Hashable, Codable, CaseIterable {
        case allow
        case deny
    }

    public enum Weekday: String, Sendable, Hashable, Codable, CaseIterable {
        case mon, tue, wed, thu, fri, sat, sun

        /// Monday is 0.
        public var index: Int { Self.allCases.firstIndex(of: self)! }
    }

    /// A wall-clock time of day, minute resolution.
    public struct TimeOfDay: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Minutes since midnight, 0..<1440.
        public var minutes: Int

        public init(hour: Int, minute: Int) {
            minutes = hour * 60 + minute
        }

        /// `HH:MM`, 00:00 to 23:59.
        public init?(parsing text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                  parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
                  let hour = Int(parts[0]), let minute = Int(parts[1]), hour < 24, minute < 60 else { return nil }
            self.init(hour: hour, minute: minute)
        }

        public var description: String {
            String(format: "%02d:%02d", minutes / 60, minutes % 60)
        }
    }

    /// One rule: on `days`, from `from` to `to` (wall clock in `zone`). A rule whose `to` is not after `from` crosses
    /// midnight and belongs to the day it starts on.
    public struct Rule: Sendable, Hashable, Codable, CustomStringConvertible {
        public var effect: Effect
        public var days: [Weekday]
        public var from: TimeOfDay
        public var to: TimeOfDay
        /// An IANA zone name, e.g. `Europe/Berlin`.
        public var zone: String

        public init(_ effect: Effect, days: [Weekday] = Weekday.allCases, from: TimeOfDay, to: TimeOfDay, zone: String) {
            self.effect = effect
            self.days = days
            self.from = from
            self.to = to
            self.zone = zone
        }

        /// `deny fri,sat,sun 16:00-08:00 Europe/Berlin`
        public var description: String {
            let dayList = days.count == Weekday.allCases.count ? "every day" : days.map(\.rawValue).joined(separator: ",")
            return "\(effect.rawValue) \(dayList) \(from)-\(to) \(zone)"
        }

        /// Whether the rule holds at `date`.
        public func holds(at date: Date) -> Bool {
            guard let timeZone = TimeZone(identifier: zone) else { return false }
            return holds(at: date, in: timeZone)
        }

        func holds(at date: Date, in timeZone: TimeZone) -> Bool {
            let local = date.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: date))
            let dayNumber = Int((local / 86_400).rounded(.down))
            let minute = Int((local - Double(dayNumber) * 86_400) / 60)
            // 1970-01-01 was a Thursday (index 3 with Monday as 0).
            let weekday = ((dayNumber + 3) % 7 + 7) % 7
            let yesterday = (weekday + 6) % 7
            let indices = Set(days.map(\.index))
            if from.minutes < to.minutes {
                return indices.contains(weekday) && minute >= from.minutes && minute < to.minutes
            }
            // Crosses midnight (or, when `to` equals `from`, lasts a whole day).
            return (indices.contains(weekday) && minute >= from.minutes) || (indices.contains(yesterday) && minute < to.minutes)
        }
    }

    public enum Decision: Sendable, Hashable {
        case open
        /// Closed by `rule`; `opensAt` is the first minute it opens within the horizon (nil for a freeze, or when
        /// nothing opens within it).
        case waiting(rule: String, opensAt: Date?)
    }

    /// Whether a change may be applied at `date`, and when not, what holds it and when it opens.
    public func decision(at date: Date, rollback: Bool) -> Decision {
        if rollback, rollbacks == .allowed {
            return .open
        }
        if let freeze {
            return .waiting(rule: "freeze: \(freeze)", opensAt: nil)
        }
        var zones: [String: TimeZone] = [:]
        for rule in rules where zones[rule.zone] == nil {
            zones[rule.zone] = TimeZone(identifier: rule.zone)
        }
        guard let closing = closingRule(at: date, zones: zones) else { return .open }
        // The next whole minute on which it is open.
        var minute = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let end = date.timeIntervalSince1970 + Self.horizon
        while minute <= end {
            let candidate = Date(timeIntervalSince1970: minute)
            if closingRule(at: candidate, zones: zones) == nil {
                return .waiting(rule: closing, opensAt: candidate)
            }
            minute += 60
        }
        return .waiting(rule: closing, opensAt: nil)
    }

    /// The rule that closes `date`, or nil when it is open (freeze aside).
    func closingRule(at date: Date, zones: [String: TimeZone]) -> String? {
        func holds(_ rule: Rule) -> Bool {
            zones[rule.zone].map { rule.holds(at: date, in: $0) } ?? false
        }
        if let deny = rules.first(where: { $0.effect == .deny && holds($0) }) {
            return deny.description
        }
        let allows = rules.filter { $0.effect == .allow }
        if !allows.isEmpty, !allows.contains(where: holds) {
            return "outside " + allows.map(\.description).joined(separator: "; ")
        }
        return nil
    }

    /// The status message for a decision to wait.
    public static func message(rule: String, opensAt: Date?, freeze: String?) -> String {
        if let freeze {
            return "frozen: \(freeze)"
        }
        guard let opensAt else {
            return "waiting: no window opens within 8 days (\(rule))"
        }
        return "waiting for the window at \(Timestamp.string(from: opensAt)) (\(rule))"
    }
}
