import Foundation
import Testing
@testable import PinwheelCore

/// A stage's analysis driven by a clock of the test's own: when each metric is due, how measurements add up to a
/// verdict, and what no data does. No Prometheus, no process.
@Suite("Metric analysis")
struct AnalysisRunTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ seconds: TimeInterval) -> Date { start.addingTimeInterval(seconds) }

    static func errors(count: Int = 3, failureLimit: Int = 0, critical: Bool = false, noData: MetricAnalysis.NoData = .hold) -> MetricAnalysis.Metric {
        MetricAnalysis.Metric(name: "errors", query: try! QueryTemplate(#"rate(errors{slot="{{slot}}"}[1m])"#), interval: .seconds(10),
                              count: count, initialDelay: .seconds(5), rule: .threshold(min: nil, max: 0.01),
                              failureLimit: failureLimit, critical: critical, noData: noData)
    }

    static let latency = MetricAnalysis.Metric(name: "p99", query: try! QueryTemplate(#"p99{slot="{{slot}}"}"#), interval: .seconds(10),
                                               count: 2, rule: .relative(maxIncrease: 1.2))

    @Test func metricsAreDueAfterTheirDelayThenEveryInterval() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(), Self.latency]), start: Self.start)
        #expect(run.due(at: Self.at(0)).map(\.name) == ["p99"], "p99 has no initial delay, errors waits 5 s")
        #expect(run.due(at: Self.at(0)).first?.needsBaseline == true)
        #expect(run.due(at: Self.at(5)).map(\.name) == ["errors", "p99"])
        run.record(0, value: 0.001, at: Self.at(5))
        run.record(1, value: 0.2, baseline: 0.2, at: Self.at(5))
        #expect(run.due(at: Self.at(14)).isEmpty)
        #expect(run.due(at: Self.at(15)).map(\.name) == ["errors", "p99"])
        #expect(run.verdict(at: Self.at(14)) == .running(next: Self.at(15)))
        // A late caller gets each metric once, not once per missed interval.
        #expect(run.due(at: Self.at(100)).count == 2)
    }

    @Test func allMeasurementsPassingPassTheStage() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors()]), start: Self.start)
        for second in [5.0, 15, 25] {
            #expect(run.verdict(at: Self.at(second)) != .passed)
            run.record(0, value: 0.005, at: Self.at(second))
        }
        #expect(run.verdict(at: Self.at(25)) == .passed)
        #expect(run.measurements.map(\.outcome) == [.passed, .passed, .passed])
        #expect(run.due(at: Self.at(1000)).isEmpty, "a finished metric is not measured again")
    }

    @Test func oneFailureMoreThanTheLimitFailsTheStage() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 4, failureLimit: 1)]), start: Self.start)
        run.record(0, value: 0.5, at: Self.at(5))
        guard case .running = run.verdict(at: Self.at(5)) else { Issue.record("one failure is within the limit"); return }
        run.record(0, value: 0.001, at: Self.at(15))
        run.record(0, value: 0.2, at: Self.at(25))
        guard case let .failed(metric, reason) = run.verdict(at: Self.at(25)) else { Issue.record("two failures past a limit of one"); return }
        #expect(metric == "errors")
        #expect(reason.contains("0.2") && reason.contains("0.01"), "the reason gives the value and the bound: \(reason)")
        #expect(run.due(at: Self.at(1000)).isEmpty, "nothing is measured after a failure")
    }

    @Test func aCriticalMetricFailsAtItsFirstFailure() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 5, failureLimit: 3, critical: true)]), start: Self.start)
        run.record(0, value: 1, at: Self.at(5))
        guard case .failed = run.verdict(at: Self.at(5)) else { Issue.record("critical: the first failure fails"); return }
    }

    @Test func noDataHoldsByDefaultAndIsMeasuredAgain() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 1)]), start: Self.start)
        run.record(0, value: nil, note: "Prometheus did not answer", at: Self.at(5))
        guard case let .held(metric, reason, next) = run.verdict(at: Self.at(6)) else { Issue.record("no data holds"); return }
        #expect(metric == "errors" && reason.contains("Prometheus did not answer") && next == Self.at(15))
        #expect(run.due(at: Self.at(15)).map(\.name) == ["errors"], "held metrics are measured again")
        run.record(0, value: 0, at: Self.at(15))
        #expect(run.verdict(at: Self.at(15)) == .passed, "data that comes back lets the stage go on")
    }

    @Test func aHeldStageNeverPasses() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 2)]), start: Self.start)
        for second in stride(from: 5.0, through: 500, by: 10) {
            run.record(0, value: nil, at: Self.at(second))
            #expect(run.verdict(at: Self.at(second)) != .passed)
        }
    }

    @Test(arguments: [(MetricAnalysis.NoData.fail, false), (.pass, true)])
    func noDataCountsAsItsPolicySays(_ noData: MetricAnalysis.NoData, passes: Bool) {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 1, noData: noData)]), start: Self.start)
        run.record(0, value: nil, at: Self.at(5))
        if passes {
            #expect(run.verdict(at: Self.at(5)) == .passed)
        } else {
            guard case .failed = run.verdict(at: Self.at(5)) else { Issue.record("noData: fail fails"); return }
        }
    }

    @Test func aComparisonJudgesAgainstTheStableSlot() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.latency]), start: Self.start)
        run.record(0, value: 0.23, baseline: 0.2, at: Self.at(0))
        #expect(run.measurements.last?.outcome == .passed, "0.23 ≤ 1.2 × 0.2")
        run.record(0, value: 0.3, baseline: 0.2, at: Self.at(10))
        guard case let .failed(_, reason) = run.verdict(at: Self.at(10)) else { Issue.record("0.3 > 1.2 × 0.2"); return }
        #expect(reason.contains("stable"))
    }

    @Test func aComparisonWithoutTheStableSlotsDataHasNoData() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.latency]), start: Self.start)
        run.record(0, value: 0.2, baseline: nil, at: Self.at(0))
        #expect(run.measurements.last?.outcome == .noData)
        guard case .held = run.verdict(at: Self.at(0)) else { Issue.record("no baseline: held"); return }
    }

    @Test func theBakeTimeKeepsAPassingStageWaiting() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 1)]), bake: .seconds(60), start: Self.start)
        run.record(0, value: 0, at: Self.at(5))
        #expect(run.verdict(at: Self.at(5)) == .running(next: Self.at(60)))
        #expect(run.verdict(at: Self.at(60)) == .passed)
        let bakeOnly = AnalysisRun(analysis: MetricAnalysis(), bake: .seconds(30), start: Self.start)
        #expect(bakeOnly.verdict(at: Self.at(29)) == .running(next: Self.at(30)))
        #expect(bakeOnly.verdict(at: Self.at(30)) == .passed)
        #expect(AnalysisRun(analysis: MetricAnalysis(), start: Self.start).verdict(at: Self.start) == .passed,
                "no bake and no analysis: nothing to wait for")
    }

    @Test func notANumberIsNoData() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 1, noData: .fail)]), start: Self.start)
        run.record(0, value: .nan, at: Self.at(5))
        #expect(run.measurements.last?.outcome == .noData, "0/0 (no requests) is no data, not a pass")
    }

    @Test func unknownMetricsAndExtraMeasurementsAreIgnored() {
        var run = AnalysisRun(analysis: MetricAnalysis(metrics: [Self.errors(count: 1)]), start: Self.start)
        run.record(7, value: 1, at: Self.at(5))
        run.record(-1, value: 1, at: Self.at(5))
        run.record(0, value: 0, at: Self.at(5))
        run.record(0, value: 100, at: Self.at(15))
        #expect(run.measurements.count == 1)
        #expect(run.verdict(at: Self.at(15)) == .passed)
    }
}
