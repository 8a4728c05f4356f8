import Foundation

/// One bake after the canary or a batch, carried out: the switched hosts' health is checked again every
/// `healthInterval`, the policy's metrics are measured when ``AnalysisRun`` says they are due, and the window ends
/// when the bake time is over and every metric has its measurements — or at the first unhealthy host or failed
/// analysis.
///
/// Everything it touches comes in as closures (the clock, the sleep, the health check, the metric source), so the
/// same code runs in the controller and under a test's fake clock. Every wait is the caller's `sleep`, which must
/// throw `CancellationError` when the task is cancelled: a newer commit ends a bake at once, never after it.
/// A held analysis (`noData: hold`) never ends the window by itself: it waits, says so once per hold through
/// `onHeld`, and measures again at each interval, until there is data or the task is cancelled.
public struct BakeWindow: Sendable {
    /// How a bake ended.
    public enum Result: Sendable, Equatable {
        case passed
        /// Hosts that failed their health check during the bake, and why.
        case unhealthy([String: HostFailure])
        /// A metric failed the stage.
        case failed(metric: String, reason: String)
    }

    /// The stage's analysis so far: what the status, the log and notifications show.
    public struct Report: Sendable, Equatable {
        public var result: Result
        public var measurements: [AnalysisRun.Measurement]
    }

    public var analysis: MetricAnalysis?
    public var bake: ConfigDuration
    /// What fills the queries' placeholders: the release's slot, and the stable slot for a comparison's baseline.
    public var release: QueryTemplate.Values
    public var stable: QueryTemplate.Values
    /// Where the metrics come from; nil measures nothing, and every due measurement is no data.
    public var source: (any MetricQuerying)?
    public var healthInterval: Duration = .seconds(5)
    public var now: @Sendable () -> Date = { Date() }
    /// Waits; throws `CancellationError` when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    /// Checks the switched hosts' health: the hosts that failed, and why.
    public var checkHealth: @Sendable () async -> [String: HostFailure] = { [:] }
    /// Each measurement as it is judged.
    public var onMeasurement: @Sendable (AnalysisRun.Measurement) -> Void = { _ in }
    /// A hold begins (`metric`, why): the rollout waits, and people must hear of it.
    public var onHeld: @Sendable (_ metric: String, _ reason: String) -> Void = { _, _ in }

    public init(analysis: MetricAnalysis?, bake: ConfigDuration, release: QueryTemplate.Values, stable: QueryTemplate.Values,
                source: (any MetricQuerying)?) {
        self.analysis = analysis
        self.bake = bake
        self.release = release
        self.stable = stable
        self.source = source
    }

    /// Runs the window to its end. Throws only `CancellationError`.
    public func run() async throws -> Report {
        let start = now()
        var run = AnalysisRun(analysis: analysis ?? MetricAnalysis(), bake: bake, start: start)
        var nextHealth = start.addingTimeInterval(Self.seconds(healthInterval))
        var holding: String?
        while true {
            try Task.checkCancellation()
            if now() >= nextHealth {
                let failed = await checkHealth()
                if !failed.isEmpty { return Report(result: .unhealthy(failed), measurements: run.measurements) }
                nextHealth = now().addingTimeInterval(Self.seconds(healthInterval))
            }
            for due in run.due(at: now()) {
                try await measure(due, into: &run)
            }
            let wake: Date
            switch run.verdict(at: now()) {
            case .passed:
                // The last word is the hosts' health at the end of the bake.
                let failed = await checkHealth()
                try Task.checkCancellation()
                if !failed.isEmpty { return Report(result: .unhealthy(failed), measurements: run.measurements) }
                return Report(result: .passed, measurements: run.measurements)
            case let .failed(metric, reason):
                return Report(result: .failed(metric: metric, reason: reason), measurements: run.measurements)
            case let .held(metric, reason, next):
                if holding != metric {
                    holding = metric
                    onHeld(metric, reason)
                }
                wake = next
            case let .running(next):
                holding = nil
                wake = next
            }
            let until = min(wake, nextHealth)
            let wait = max(0.001, until.timeIntervalSince(now()))
            try await sleep(.milliseconds(Int64((wait * 1000).rounded(.up))))
        }
    }

    private func measure(_ due: AnalysisRun.Due, into run: inout AnalysisRun) async throws {
        guard let metric = analysis?.metrics[due.metric] else { return }
        let (value, note) = await ask(metric.query.render(release))
        var baseline: Double?
        var baselineNote: String?
        if due.needsBaseline, value != nil {
            (baseline, baselineNote) = await ask(metric.query.render(stable))
        }
        try Task.checkCancellation()
        run.record(due.metric, value: value, baseline: baseline,
                   note: note ?? baselineNote.map { "the stable slot: \($0)" } ?? (due.needsBaseline && value != nil && baseline == nil ? "the stable slot has no data" : nil),
                   at: now())
        if let measurement = run.measurements.last { onMeasurement(measurement) }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// One query's value, or why there is none.
    private func ask(_ query: String) async -> (Double?, String?) {
        guard let source else { return (nil, "no Prometheus is configured (`--prometheus`)") }
        do {
            guard let value = try await source.value(of: query) else { return (nil, "the query answered nothing") }
            return (value, nil)
        } catch {
            return (nil, String(describing: error))
        }
    }
}
