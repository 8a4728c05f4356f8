import Foundation

/// What the bake of one stage (the canary, a batch) found: its verdict and every measurement, as the status, `history`,
/// the page, the API and notifications show it.
public struct StageAnalysis: Sendable, Hashable, Codable {
    public enum Verdict: String, Sendable, Hashable, Codable {
        /// The bake time is over and every metric passed.
        case passed
        /// A metric failed the stage: the rollout halted and `onFailure` applied.
        case failed
        /// A switched host failed its health check during the bake (counted as a failed switch).
        case unhealthy
        /// A metric had no data (`noData: hold`): the rollout waited, never promoting.
        case held
        /// The bake ended early: a newer commit or a shutdown.
        case stopped
    }

    /// One measurement as judged.
    public struct Measurement: Sendable, Hashable, Codable {
        public var metric: String
        /// When it was taken, ISO 8601.
        public var time: String
        public var value: Double?
        /// The stable slot's value, for a comparison.
        public var baseline: Double?
        public var outcome: AnalysisRun.Measurement.Outcome
        public var note: String?

        public init(_ measurement: AnalysisRun.Measurement) {
            metric = measurement.metric
            time = StageAnalysis.timestamp(measurement.time)
            value = measurement.value
            baseline = measurement.baseline
            outcome = measurement.outcome
            note = measurement.note
        }
    }

    /// The stage baked: `canary`, `batch 1`, …
    public var stage: String
    public var verdict: Verdict
    /// Why it failed or is held, for people.
    public var reason: String?
    public var measurements: [Measurement]

    public init(stage: String, verdict: Verdict, reason: String? = nil, measurements: [Measurement] = []) {
        self.stage = stage
        self.verdict = verdict
        self.reason = reason
        self.measurements = measurements
    }

    /// One line for logs, `status` and notifications: `canary: failed — error-ratio = 0.3, expected ≤ 0.05 (…)`.
    public var summary: String {
        let counts = "\(measurements.filter { $0.outcome == .passed }.count) passed, \(measurements.filter { $0.outcome == .failed }.count) failed, "
            + "\(measurements.filter { $0.outcome == .noData }.count) without data"
        return "\(stage): \(verdict.rawValue)" + (reason.map { " — \($0)" } ?? "") + " (\(counts))"
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.string(from: date)
    }
}

/// What a bake reports as it goes: each measurement, a hold beginning, the stage's verdict.
public enum AnalysisEvent: Sendable, Equatable {
    case measured(AnalysisRun.Measurement, stage: Stage)
    /// A metric without data holds the rollout (`noData: hold`) until there is data or a newer commit.
    case held(metric: String, reason: String, stage: Stage)
    case ended(StageAnalysis)
}
