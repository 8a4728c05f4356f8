import Foundation

/// `analysis:` in a policy: the metrics that must hold after the canary and after each batch for a rollout to go on.
///
/// Health checks catch a slot that does not answer; these catch a release that answers and is still wrong (errors
/// on real requests, slow pages). Each metric is a PromQL query the controller runs against the operator's
/// Prometheus, repeatedly, and judges by a threshold or against the stable slot (see ``AnalysisRun``).
public struct MetricAnalysis: Sendable, Hashable, Codable {
    public var metrics: [Metric]

    public init(metrics: [Metric] = []) {
        self.metrics = metrics
    }

    /// One metric: its query, when it is measured, and how a measurement is judged.
    public struct Metric: Sendable, Hashable, Codable {
        /// A short name for statuses, logs and notifications (letters, digits, `-`, `_`, `.`).
        public var name: String
        public var query: QueryTemplate
        /// The wait between two measurements.
        public var interval: ConfigDuration
        /// How many measurements make the verdict.
        public var count: Int
        /// The wait after the stage starts before the first measurement (the new slot needs traffic first).
        public var initialDelay: ConfigDuration
        public var rule: Rule
        /// Failed measurements tolerated; one more fails the analysis.
        public var failureLimit: Int
        /// Stop at the first failed measurement, whatever `failureLimit` says.
        public var critical: Bool
        /// What a measurement without data counts as.
        public var noData: NoData

        public init(name: String, query: QueryTemplate, interval: ConfigDuration = .seconds(30), count: Int = 3,
                    initialDelay: ConfigDuration = .seconds(0), rule: Rule, failureLimit: Int = 0, critical: Bool = false,
                    noData: NoData = .hold) {
            self.name = name
            self.query = query
            self.interval = interval
            self.count = count
            self.initialDelay = initialDelay
            self.rule = rule
            self.failureLimit = failureLimit
            self.critical = critical
            self.noData = noData
        }

        /// When the measurements are taken, counted from the start of the stage: the initial delay, then one each
        /// interval.
        public func schedule(from start: Date) -> [Date] {
            (0..<count).map { start.addingTimeInterval(initialDelay.seconds + Double($0) * interval.seconds) }
        }

        /// How long the whole analysis of this metric takes at least.
        public var span: TimeInterval { initialDelay.seconds + Double(max(0, count - 1)) * interval.seconds }
    }

    /// How a measurement is judged.
    public enum Rule: Sendable, Hashable, Codable {
        /// The value must lie within the range (either bound may be open).
        case threshold(min: Double?, max: Double?)
        /// The value may be at most `maxIncrease` times the same query's value for the stable slot (Kayenta's
        /// comparison): `1.2` allows 20 % more errors or latency than the release it replaces.
        case relative(maxIncrease: Double)

        /// Whether a value (and the stable slot's, for a comparison) passes.
        public func passes(_ value: Double, baseline: Double?) -> Bool? {
            guard value.isFinite else { return nil }
            switch self {
            case let .threshold(min, max):
                if let min, value < min { return false }
                if let max, value > max { return false }
                return true
            case let .relative(maxIncrease):
                guard let baseline, baseline.isFinite else { return nil }
                // A stable slot at zero allows nothing above zero: any error is an increase.
                return value <= baseline * maxIncrease
            }
        }

        /// The bound a value is held to, for people: `≤ 0.01`, `≤ 1.2 × stable (0.004)`.
        public func describe(baseline: Double?) -> String {
            switch self {
            case let .threshold(min?, max?): return "within \(Self.number(min))…\(Self.number(max))"
            case let .threshold(min?, nil): return "≥ \(Self.number(min))"
            case let .threshold(nil, max?): return "≤ \(Self.number(max))"
            case .threshold(nil, nil): return "any value"
            case let .relative(maxIncrease):
                return "≤ \(Self.number(maxIncrease)) × stable" + (baseline.map { " (\(Self.number($0)))" } ?? "")
            }
        }

        /// A number as people read it: no trailing zeros, at most six significant digits.
        public static func number(_ value: Double) -> String {
            guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
            var text = String(format: "%.6g", value)
            if text.contains("."), !text.contains("e") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text
        }
    }

    /// What a measurement with no data counts as.
    public enum NoData: String, Sendable, Hashable, Codable, CaseIterable {
        /// The rollout waits (and the controller notifies) until there is data or a newer commit: never promotes.
        case hold
        /// A failed measurement.
        case fail
        /// A passed measurement (for metrics that are often empty, such as an error count on a quiet service).
        case pass
    }
}

extension ConfigDuration {
    /// The duration in seconds.
    public var seconds: TimeInterval { TimeInterval(milliseconds) / 1000 }
}
