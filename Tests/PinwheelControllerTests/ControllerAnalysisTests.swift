import Foundation
import MetricsTestKit
import PinwheelCore
import PinwheelFleet
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelController

/// Bake and metric analysis through the whole controller, on in-memory hosts, with the metrics coming from numbers
/// of the test's own (what the operator's Prometheus would answer): a healthy but bad release stopped at the canary
/// and reverted in git, a good one baked after every stage, and a silent Prometheus holding the rollout.
@Suite("Controller: bake and analysis")
struct ControllerAnalysisTests {
    /// Errors by the version in the query: 6.6.6 fails half its requests, every other version none; nil: no data.
    final class Errors: MetricQuerying {
        /// Prometheus went quiet: every query answers nothing.
        let silent = Mutex(false)
        let asked = Mutex<[String]>([])

        func value(of query: String) async throws -> Double? {
            asked.withLock { $0.append(query) }
            if silent.withLock({ $0 }) { return nil }
            return query.contains(#"version="6.6.6""#) ? 0.5 : 0
        }
    }

    static let policy = """
        rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: revert}
        health: {retries: 40, interval: 250ms}
        bake: 500ms
        analysis:
          metrics:
            - name: error-ratio
              query: 'sum(rate(hello_requests_total{environment="{{environment}}",version="{{version}}",host=~"{{hosts}}",status=~"5.."}[1m]))'
              initialDelay: 0s
              interval: 1s
              count: 2
              max: 0.05

        """

    struct World {
        let fleet: InMemoryTestFleet
        let config: ConfigRemote
        let logs: CapturedLogs
        let controller: Controller
        let metrics: TestMetrics

        func pollAndSettle() async {
            await controller.poll()
            await controller.settle()
        }
    }

    func world(source: Errors) async throws -> World {
        let fleet = try InMemoryTestFleet(hosts: 3)
        try fleet.write("Policies/local.yaml", Self.policy)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        var configuration = ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(50), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test")
        configuration.metricSource = source
        let metrics = TestMetrics()
        let controller = Controller(configuration: configuration, logger: logs.logger(),
                                    metrics: ControllerMetrics(factory: metrics), agents: fleet.agents)
        return World(fleet: fleet, config: config, logs: logs, controller: controller, metrics: metrics)
    }

    /// The hosts a successful round trip switched to B, in order.
    static func switchedToB(_ exchanges: [InMemoryFleet.Exchange]) -> [String] {
        exchanges.compactMap { exchange in
            exchange.ok && exchange.steps.contains(.route(.b)) && !exchange.steps.contains(.verify(.b)) ? exchange.host : nil
        }
    }

    @Test func aHealthyButBadReleaseIsStoppedAtTheCanaryAndRevertedInGit() async throws {
        let source = Errors()
        let world = try await world(source: source)
        await world.pollAndSettle()
        try world.fleet.setPins(.b, "hello-service==6.6.6")
        try world.fleet.setActive(.b)
        let bad = try await world.config.commitAndPush("fleet: release hello-service 6.6.6")
        await world.pollAndSettle()

        let status = try #require(try world.config.status(of: "fleet"))
        #expect(status.result == .halted && status.desired == bad)
        #expect(status.message.contains("the analysis failed: canary: error-ratio = 0.5"), "\(status.message)")
        #expect(status.cause?.code == "analysis")
        let revert = try #require(status.revert, "onFailure: revert commits the revert")
        let tip = try await world.config.inRemote(["rev-parse", "main"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tip == revert)
        #expect(Self.switchedToB(world.fleet.agents.exchanges) == ["web-01"], "only the canary ever took the bad release")
        #expect((0..<3).allSatisfy { world.fleet.slot($0) == "A" }, "the canary went back")
        let analysis = try #require(status.analysis)
        #expect(analysis.map(\.stage) == ["canary"])
        #expect(analysis.first?.verdict == .failed)
        #expect(analysis.first?.measurements.first?.value == 0.5)
        let query = try #require(source.asked.withLock { $0.first })
        #expect(query.contains(#"environment="fleet""#) && query.contains(#"host=~"web-01""#), "\(query)")
        #expect(try world.metrics.expectCounter("pinwheel_analysis_verdicts_total", [("environment", "fleet"), ("verdict", "failed")]).totalValue == 1)
        #expect(world.logs.events(.analysisFinished).contains { $0.metadata["verdict"] == "failed" && $0.metadata["stage"] == "canary" })

        // The revert applies at the next poll: back to 1.0.0 everywhere, nothing baked (a rollback is fast).
        await world.pollAndSettle()
        let reverted = try #require(try world.config.status(of: "fleet"))
        #expect(reverted.result == .converged && reverted.desired == revert)
    }

    @Test func aGoodReleaseIsBakedAfterTheCanaryAndEachBatch() async throws {
        let world = try await world(source: Errors())
        await world.pollAndSettle()
        let labels = [("environment", "fleet"), ("metric", "error-ratio"), ("outcome", "passed")]
        // The first deploy is baked too.
        let before = try world.metrics.expectCounter("pinwheel_analysis_measurements_total", labels).totalValue
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        _ = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()

        let status = try #require(try world.config.status(of: "fleet"))
        #expect(status.result == .converged, "\(status.message)")
        let analysis = try #require(status.analysis)
        #expect(analysis.map(\.stage) == ["canary", "batch 1"])
        #expect(analysis.allSatisfy { $0.verdict == .passed && $0.measurements.count == 2 })
        #expect((0..<3).allSatisfy { world.fleet.slot($0) == "B" })
        let measured = analysis.map { $0.measurements.filter { $0.outcome == .passed }.count }.reduce(0, +)
        #expect(try world.metrics.expectCounter("pinwheel_analysis_measurements_total", labels).totalValue - before == Int64(measured))
    }

    @Test func aSilentPrometheusHoldsTheRolloutInsteadOfPromoting() async throws {
        let source = Errors()
        let world = try await world(source: source)
        await world.pollAndSettle()
        source.silent.withLock { $0 = true }
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        _ = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.controller.poll()
        // Well past the bake and every interval: still at the canary.
        let deadline = ContinuousClock.now + .seconds(20)
        while world.logs.events(.analysisHeld).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(3))
        let held = world.logs.events(.analysisHeld)
        #expect(held.count == 1, "said once, not at every interval")
        #expect(held.first?.metadata["metric"] == "error-ratio")
        #expect(held.first?.metadata["reason"]?.contains("the query answered nothing") == true)
        #expect(Self.switchedToB(world.fleet.agents.exchanges) == ["web-01"], "no batch while held")
        #expect(try world.metrics.expectCounter("pinwheel_analysis_verdicts_total", [("environment", "fleet"), ("verdict", "held")]).totalValue == 1)
        // A shutdown ends the held bake at once.
        let stopping = ContinuousClock.now
        await world.controller.stop()
        await world.controller.settle()
        #expect(ContinuousClock.now - stopping < .seconds(5))
        #expect(Self.switchedToB(world.fleet.agents.exchanges) == ["web-01"])
    }

    /// "Holds and notifies": the policy's targets hear of a held analysis once, with the metric and the stage, and
    /// never of a promotion while it holds.
    @Test func aHeldAnalysisIsNotifiedToTheEnvironmentsTargetsOnce() async throws {
        let receiver = try await HookReceiver(failingFirst: [:])
        defer { receiver.stop() }
        let source = Errors()
        let fleet = try InMemoryTestFleet(hosts: 3)
        try fleet.write("Policies/local.yaml", Self.policy + HookReceiver.policyWebhook)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let notifier = receiver.notifier(logs: logs)
        var configuration = NotificationFleetTests.configuration(fleet, config)
        configuration.metricSource = source
        let controller = Controller(configuration: configuration, logger: logs.logger(), notifier: notifier, agents: fleet.agents)
        await controller.poll()
        await controller.settle()
        source.silent.withLock { $0 = true }
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0")
        await controller.poll()
        let deadline = ContinuousClock.now + .seconds(20)
        while logs.events(.analysisHeld).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(3))
        #expect(await notifier.settle(timeout: .seconds(30)))

        let received = try receiver.events()
        let held = received.filter { $0.event == .held }
        #expect(held.count == 1, "once per hold, not at every interval: \(received.map(\.event))")
        #expect(held.first?.commit == release)
        #expect(held.first?.title.contains("held after the canary: error-ratio has no data") == true, "\(held.first?.title ?? "")")
        #expect(!received.contains { $0.commit == release && ($0.event == .converged || $0.event == .halted) },
                "neither promoted nor halted while held: \(received.map(\.event))")
        await controller.stop()
        await controller.settle()
    }
}
