import Foundation
import MetricsTestKit
import PinwheelCore
import Prometheus
import Testing
@testable import PinwheelController

/// What ``ControllerMetrics`` records, each metric on its own factory: nothing here touches the global metrics system.
@Suite("Controller metrics")
struct ControllerMetricsTests {
    func status(_ hosts: [String: EnvironmentStatus.HostStatus], environment: String = "prod") -> EnvironmentStatus {
        EnvironmentStatus(environment: environment, desired: "3f2a1c9e", result: .degraded, message: "", time: "", active: .b,
                          pins: [], hosts: hosts)
    }

    @Test func reconcilesAreCountedAndTimedByResult() throws {
        let test = TestMetrics()
        let metrics = ControllerMetrics(factory: test)
        metrics.reconciled(environment: "prod", duration: .seconds(12), outcome: .converged, reverted: false, stopped: false)
        metrics.reconciled(environment: "prod", duration: .seconds(3), outcome: .halted, reverted: true, stopped: false)
        metrics.reconciled(environment: "prod", duration: .seconds(1), outcome: .halted, reverted: false, stopped: false)
        metrics.reconciled(environment: "prod", duration: .seconds(1), outcome: .progressing, reverted: false, stopped: true)
        for (environment, result) in [("prod", "converged"), ("prod", "reverted"), ("prod", "halted"), ("prod", "stopped")] {
            let counter = try test.expectCounter("pinwheel_rollouts_total", [("environment", environment), ("result", result)])
            #expect(counter.totalValue == 1, "\(environment) \(result)")
        }
        let timer = try test.expectTimer("pinwheel_reconcile_duration_seconds", [("environment", "prod"), ("result", "converged")])
        #expect(timer.values == [12_000_000_000])
        #expect(test.timers(label: "pinwheel_reconcile_duration_seconds").count == 4)
    }

    @Test func commitsHeldBackAreCountedOnceEach() throws {
        let test = TestMetrics()
        var metrics = ControllerMetrics(factory: test)
        func held(_ result: EnvironmentStatus.Result, _ commit: String) -> EnvironmentStatus {
            var status = status([:], environment: "staging")
            status.result = result
            status.desired = commit
            status.applied = "aaaa"
            return status
        }
        // A commit waiting for its window is published on every poll; it is counted once.
        metrics.observed(held(.waiting, "bbbb"))
        metrics.observed(held(.waiting, "bbbb"))
        metrics.observed(held(.invalid, "cccc"))
        metrics.observed(held(.invalid, "cccc"))
        metrics.observed(held(.refused, "dddd"))
        metrics.observed(held(.waiting, "bbbb"))
        func count(_ result: String) throws -> Int64 {
            try test.expectCounter("pinwheel_rollouts_total", [("environment", "staging"), ("result", result)]).totalValue
        }
        #expect(try count("waiting") == 2, "bbbb waited again after dddd was refused")
        #expect(try count("invalid") == 1)
        #expect(try count("refused") == 1)
        #expect(test.timers(label: "pinwheel_reconcile_duration_seconds").isEmpty, "no reconcile ran")
        #expect(try test.expectGauge("pinwheel_applied_commit_info", [("environment", "staging"), ("commit", "aaaa")]).lastValue == 1)
    }

    @Test func hostGaugesCoverEverySlotAndHealthIncludingZeros() throws {
        let test = TestMetrics()
        var metrics = ControllerMetrics(factory: test)
        metrics.observed(status([
            "web-01": .init(serving: .b, slots: [:], healthy: true),
            "web-02": .init(serving: .b, slots: [:], healthy: true),
            "web-03": .init(serving: .a, slots: [:], healthy: false),
            "web-04": .init(serving: .b, slots: [:], healthy: true, error: "check B: 502"),
            "web-05": .init(serving: nil, slots: [:], healthy: false, error: "unreachable"),
        ]))
        func hosts(_ slot: String, _ healthy: String) throws -> Double? {
            try test.expectGauge("pinwheel_hosts", [("environment", "prod"), ("slot", slot), ("healthy", healthy)]).lastValue
        }
        #expect(try hosts("B", "true") == 2)
        #expect(try hosts("B", "false") == 1, "a host with an error is not healthy")
        #expect(try hosts("A", "false") == 1)
        #expect(try hosts("A", "true") == 0)
        #expect(try hosts("none", "false") == 1)
        #expect(try hosts("none", "true") == 0)
        #expect(test.recorders(label: "pinwheel_hosts").count == 6)

        // Everything healed onto B: the other series drop to 0 rather than keep their last count.
        metrics.observed(status(["web-01": .init(serving: .b, slots: [:], healthy: true)]))
        #expect(try hosts("B", "true") == 1)
        #expect(try hosts("A", "false") == 0)
        #expect(try hosts("none", "false") == 0)
    }

    @Test func theAppliedCommitInfoNamesOnlyTheLatestCommit() throws {
        let test = TestMetrics()
        var metrics = ControllerMetrics(factory: test)
        metrics.applied(environment: "prod", commit: "aaaa")
        metrics.applied(environment: "staging", commit: "cccc")
        metrics.applied(environment: "prod", commit: "bbbb")
        #expect(try test.expectGauge("pinwheel_applied_commit_info", [("environment", "prod"), ("commit", "bbbb")]).lastValue == 1)
        #expect(try test.expectGauge("pinwheel_applied_commit_info", [("environment", "staging"), ("commit", "cccc")]).lastValue == 1)
        #expect(test.recorders(label: "pinwheel_applied_commit_info").count == 2, "prod's aaaa series was removed")

        // From statuses: a reconciled one names its commit; one held back (invalid, waiting, refused) keeps the last.
        metrics.observed(status([:]))
        #expect(try test.expectGauge("pinwheel_applied_commit_info", [("environment", "prod"), ("commit", "3f2a1c9e")]).lastValue == 1)
        var held = status([:])
        held.result = .invalid
        held.desired = "dddd"
        held.applied = "3f2a1c9e"
        metrics.observed(held)
        #expect(test.recorders(label: "pinwheel_applied_commit_info").compactMap { $0.dimensions.last?.1 }.sorted() == ["3f2a1c9e", "cccc"])
    }

    @Test func pollsStepFailuresAndDrift() throws {
        let test = TestMetrics()
        let metrics = ControllerMetrics(factory: test)
        #expect(try test.expectCounter("pinwheel_poll_failures_total").totalValue == 0, "present from the start")
        metrics.polled(duration: .milliseconds(4), failed: false, at: Date(timeIntervalSince1970: 1_800_000_000))
        metrics.polled(duration: .seconds(30), failed: true, at: Date(timeIntervalSince1970: 1_800_000_060))
        #expect(try test.expectCounter("pinwheel_poll_failures_total").totalValue == 1)
        #expect(try test.expectGauge("pinwheel_last_successful_poll_timestamp_seconds").lastValue == 1_800_000_000,
                "a failed poll leaves the last success alone")
        #expect(try test.expectTimer("pinwheel_poll_duration_seconds").values == [4_000_000, 30_000_000_000])

        metrics.hostStepFailed(environment: "prod", step: "prepare")
        metrics.hostStepFailed(environment: "prod", step: "prepare")
        metrics.hostStepFailed(environment: "prod", step: "check")
        #expect(try test.expectCounter("pinwheel_host_step_failures_total", [("environment", "prod"), ("step", "prepare")]).totalValue == 2)
        #expect(try test.expectCounter("pinwheel_host_step_failures_total", [("environment", "prod"), ("step", "check")]).totalValue == 1)

        metrics.driftDetected(environment: "prod", hosts: 3)
        #expect(try test.expectCounter("pinwheel_drift_detected_total", [("environment", "prod")]).totalValue == 3)
    }

    /// Through swift-prometheus, as `watch` serves them: the names, labels and units Prometheus scrapes.
    @Test func thePrometheusExpositionUsesTheDocumentedNamesAndUnits() throws {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [ControllerMetrics.Name.reconcileDuration: ControllerMetrics.reconcileDurationBuckets]
        var metrics = ControllerMetrics(factory: factory)
        metrics.reconciled(environment: "prod", duration: .seconds(42), outcome: .converged, reverted: false, stopped: false)
        metrics.observed(status(["web-01": .init(serving: .b, slots: [:], healthy: true)]))
        metrics.applied(environment: "prod", commit: "3f2a1c9e")
        metrics.applied(environment: "prod", commit: "4e5d6c7b")
        metrics.polled(duration: .milliseconds(3), failed: false, at: Date(timeIntervalSince1970: 1_800_000_000))
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "# TYPE pinwheel_rollouts_total counter",
            #"pinwheel_rollouts_total{environment="prod",result="converged"} 1"#,
            "# TYPE pinwheel_reconcile_duration_seconds histogram",
            #"pinwheel_reconcile_duration_seconds_bucket{environment="prod",result="converged",le="30.0"} 0"#,
            #"pinwheel_reconcile_duration_seconds_bucket{environment="prod",result="converged",le="60.0"} 1"#,
            #"pinwheel_reconcile_duration_seconds_sum{environment="prod",result="converged"} 42.0"#,
            #"pinwheel_reconcile_duration_seconds_count{environment="prod",result="converged"} 1"#,
            "# TYPE pinwheel_hosts gauge",
            #"pinwheel_hosts{environment="prod",slot="B",healthy="true"} 1.0"#,
            #"pinwheel_hosts{environment="prod",slot="A",healthy="true"} 0.0"#,
            #"pinwheel_applied_commit_info{environment="prod",commit="4e5d6c7b"} 1.0"#,
            "pinwheel_poll_failures_total 0",
            "pinwheel_last_successful_poll_timestamp_seconds 1800000000.0",
        ] {
            #expect(lines.contains(expected), "\(expected)\n--- in ---\n\(text)")
        }
        #expect(!text.contains("3f2a1c9e"), "the commit no longer applied has no series")
    }
}
