import Foundation

/// The analysis of one rollout stage (the canary, or a batch): the bake time and every metric's measurements, and
/// the verdict they add up to. Pure: the caller asks what is ``due(at:)``, measures (a Prometheus query, see
/// `PrometheusClient`), ``record(_:value:baseline:at:)``s what came back, and reads ``verdict(at:)``; tests drive it
/// with a clock of their own.
///
/// The rules:
/// - each metric is measured `count` times, the first after `initialDelay`, then every `interval`;
/// - a measurement that fails its rule counts against the metric's `failureLimit`; one more than the limit, or the
///   first under `critical: true`, fails the stage;
/// - a measurement without data counts as the metric's `noData` says: `fail` and `pass` count as such, `hold` counts
///   nothing and holds the stage (it is measured again at the next interval), so a silent Prometheus never lets a
///   release through;
/// - the stage passes when the bake time is over and every metric has all its measurements.
public struct AnalysisRun: Sendable {
    /// One measurement as judged.
    public struct Measurement: Sendable, Hashable, Codable {
        public enum Outcome: String, Sendable, Hashable, Codable {
            case passed, failed, noData
        }

        public var metric: String
        public var time: Date
        /// The release's value; nil without data.
        public var value: Double?
        /// The stable slot's value, for a comparison.
        public var baseline: Double?
        public var outcome: Outcome
        /// Why there was no data (the query answered nothing, Prometheus did not answer), when it is known.
        public var note: String?
    }

    /// What the stage's analysis says now.
    public enum Verdict: Sendable, Hashable {
        /// Still measuring or baking; nothing is due before `next`.
        case running(next: Date)
        /// A metric had no data and holds the stage (`noData: hold`): the rollout waits, and says so.
        case held(metric: String, reason: String, next: Date)
        /// A metric failed: the stage failed, the policy's `onFailure` applies.
        case failed(metric: String, reason: String)
        case passed
    }

    /// A measurement to take: the metric's index in the analysis and whether its rule needs the stable slot's value.
    public struct Due: Sendable, Hashable {
        public var metric: Int
        public var name: String
        public var needsBaseline: Bool
    }

    public let analysis: MetricAnalysis
    public let start: Date
    /// How long the stage bakes before it may pass, whatever the metrics say.
    public let bake: ConfigDuration
    public private(set) var measurements: [Measurement] = []
    /// Per metric: measurements counted (passed or failed), failures, the next time it is due, and the last hold.
    private var counted: [Int]
    private var failures: [Int]
    private var next: [Date]
    private var holding: [String?]
    private var failure: Failure?

    private struct Failure: Sendable {
        var metric: String
        var reason: String
    }

    public init(analysis: MetricAnalysis, bake: ConfigDuration = .seconds(0), start: Date) {
        self.analysis = analysis
        self.bake = bake
        self.start = start
        counted = Array(repeating: 0, count: analysis.metrics.count)
        failures = Array(repeating: 0, count: analysis.metrics.count)
        next = analysis.metrics.map { start.addingTimeInterval($0.initialDelay.seconds) }
        holding = Array(repeating: nil, count: analysis.metrics.count)
    }

    /// When the bake time is over.
    public var bakedAt: Date { start.addingTimeInterval(bake.seconds) }

    /// The measurements due at `now`: each metric at most once, however late the caller is.
    public func due(at now: Date) -> [Due] {
        guard failure == nil else { return [] }
        return analysis.metrics.indices.compactMap { index in
            let metric = analysis.metrics[index]
            guard counted[index] < metric.count, next[index] <= now else { return nil }
            if case .relative = metric.rule {
                return Due(metric: index, name: metric.name, needsBaseline: true)
            }
            return Due(metric: index, name: metric.name, needsBaseline: false)
        }
    }

    /// Records a measurement of metric `index` taken at `time`: the release's value (nil: no data) and the stable
    /// slot's (for a comparison; nil: no data). A measurement after the stage failed, or beyond the count, is ignored.
    public mutating func record(_ index: Int, value: Double?, baseline: Double? = nil, note: String? = nil, at time: Date) {
        guard failure == nil, analysis.metrics.indices.contains(index) else { return }
        let metric = analysis.metrics[index]
        guard counted[index] < metric.count else { return }
        next[index] = time.addingTimeInterval(metric.interval.seconds)
        let outcome: Measurement.Outcome
        switch value.flatMap({ metric.rule.passes($0, baseline: baseline) }) {
        case true?: outcome = .passed
        case false?: outcome = .failed
        case nil: outcome = .noData
        }
        measurements.append(Measurement(metric: metric.name, time: time, value: value, baseline: baseline, outcome: outcome,
                                        note: note.map { String($0.prefix(200)) }))
        switch (outcome, metric.noData) {
        case (.passed, _), (.noData, .pass):
            counted[index] += 1
            holding[index] = nil
        case (.failed, _), (.noData, .fail):
            counted[index] += 1
            failures[index] += 1
            holding[index] = nil
            if metric.critical || failures[index] > metric.failureLimit {
                failure = Failure(metric: metric.name, reason: Self.reason(metric, value: value, baseline: baseline, failures: failures[index], note: note))
            }
        case (.noData, .hold):
            holding[index] = "no data" + (note.map { ": \(String($0.prefix(200)))" } ?? "")
        }
    }

    /// The verdict at `now`.
    public func verdict(at now: Date) -> Verdict {
        if let failure { return .failed(metric: failure.metric, reason: failure.reason) }
        let pending = analysis.metrics.indices.filter { counted[$0] < analysis.metrics[$0].count }
        let upcoming = (pending.map { next[$0] } + (now < bakedAt ? [bakedAt] : [])).min()
        if let index = pending.first(where: { holding[$0] != nil }), let reason = holding[index] {
            return .held(metric: analysis.metrics[index].name, reason: reason, next: upcoming ?? now)
        }
        if let upcoming { return .running(next: upcoming) }
        return .passed
    }

    /// Why a metric failed, for statuses and notifications: the value against its bound, and how often.
    static func reason(_ metric: MetricAnalysis.Metric, value: Double?, baseline: Double?, failures: Int, note: String?) -> String {
        let measured = value.map { MetricAnalysis.Rule.number($0) } ?? ("no data" + (note.map { " (\(String($0.prefix(200))))" } ?? ""))
        let limit = metric.critical ? "critical" : "\(failures) of \(metric.count) failed, \(metric.failureLimit) allowed"
        return "\(metric.name) = \(measured), expected \(metric.rule.describe(baseline: baseline)) (\(limit))"
    }
}
