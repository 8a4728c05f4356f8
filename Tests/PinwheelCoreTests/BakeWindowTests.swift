import Foundation
import Synchronization
import Testing
@testable import PinwheelCore

/// A bake carried out under a clock of the test's own: measurements at their times, the health checks, a hold that
/// waits (and says so) instead of promoting, and a cancellation that ends the wait at once.
@Suite("Bake windows")
struct BakeWindowTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Time that moves only when the bake sleeps.
    final class FakeClock: Sendable {
        let elapsed = Mutex<TimeInterval>(0)
        let sleeps = Mutex<Int>(0)
        var now: Date { BakeWindowTests.start.addingTimeInterval(elapsed.withLock { $0 }) }

        func sleep(_ duration: Duration) async throws {
            try Task.checkCancellation()
            let (seconds, attoseconds) = duration.components
            elapsed.withLock { $0 += TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18 }
            let count = sleeps.withLock { $0 += 1; return $0 }
            if count > 10_000 { throw CancellationError() }
            await Task.yield()
        }
    }

    /// Numbers by query, recorded as asked; a query naming slot A is the stable slot's.
    final class FakeMetrics: MetricQuerying {
        let release: Double?
        let stable: Double?
        let failing: Bool
        let asked = Mutex<[String]>([])

        init(release: Double?, stable: Double? = nil, failing: Bool = false) {
            self.release = release
            self.stable = stable
            self.failing = failing
        }

        func value(of query: String) async throws -> Double? {
            asked.withLock { $0.append(query) }
            struct Refused: Error, CustomStringConvertible { var description: String { "127.0.0.1:9 did not answer" } }
            if failing { throw Refused() }
            return query.contains(#"slot="A""#) ? stable : release
        }
    }

    static func metric(_ name: String = "errors", rule: MetricAnalysis.Rule = .threshold(min: nil, max: 0.05), count: Int = 3,
                       noData: MetricAnalysis.NoData = .hold, failureLimit: Int = 0) -> MetricAnalysis.Metric {
        .init(name: name, query: try! QueryTemplate(#"sum(rate(errors{env="{{environment}}",slot="{{slot}}",host=~"{{hosts}}"}[1m]))"#),
              interval: .seconds(10), count: count, initialDelay: .seconds(5), rule: rule, failureLimit: failureLimit, noData: noData)
    }

    func makeWindow(_ metrics: [MetricAnalysis.Metric], bake: ConfigDuration = .seconds(60), source: (any MetricQuerying)?,
                clock: FakeClock, health: @escaping @Sendable () async -> [String: HostFailure] = { [:] }) -> BakeWindow {
        let release = QueryTemplate.Values(environment: "prod", slot: .b, hosts: ["web-01"], commit: "abc", version: "1.1.0")
        let stable = QueryTemplate.Values(environment: "prod", slot: .a, hosts: ["web-01"], commit: "abc", version: "1.0.0")
        var window = BakeWindow(analysis: metrics.isEmpty ? nil : MetricAnalysis(metrics: metrics), bake: bake,
                                release: release, stable: stable, source: source)
        window.now = { clock.now }
        window.sleep = { try await clock.sleep($0) }
        window.checkHealth = health
        return window
    }

    @Test func aGoodReleasePassesAfterTheBakeTime() async throws {
        let clock = FakeClock()
        let metrics = FakeMetrics(release: 0.01)
        let report = try await makeWindow([Self.metric()], source: metrics, clock: clock).run()
        #expect(report.result == .passed)
        #expect(report.measurements.map(\.outcome) == [.passed, .passed, .passed])
        #expect(report.measurements.map { $0.time.timeIntervalSince(Self.start) } == [5, 15, 25])
        #expect(clock.now.timeIntervalSince(Self.start) >= 60, "the bake time is waited out even when the metrics are done")
        let query = try #require(metrics.asked.withLock { $0.first })
        #expect(query == #"sum(rate(errors{env="prod",slot="B",host=~"web-01"}[1m]))"#)
    }

    @Test func aBadReleaseFailsAtItsFirstFailedMeasurement() async throws {
        let clock = FakeClock()
        let report = try await makeWindow([Self.metric()], source: FakeMetrics(release: 0.3), clock: clock).run()
        guard case let .failed(metric, reason) = report.result else { Issue.record("expected a failure, got \(report.result)"); return }
        #expect(metric == "errors")
        #expect(reason.contains("0.3") && reason.contains("0.05"))
        #expect(clock.now.timeIntervalSince(Self.start) < 10, "it stops at the first failure, not at the end of the bake")
    }

    @Test func aComparisonAsksForTheStableSlot() async throws {
        let clock = FakeClock()
        let metrics = FakeMetrics(release: 0.5, stable: 0.2)
        let report = try await makeWindow([Self.metric("p99", rule: .relative(maxIncrease: 1.2))], bake: .seconds(0), source: metrics, clock: clock).run()
        guard case .failed = report.result else { Issue.record("0.5 is more than 1.2 × 0.2"); return }
        #expect(report.measurements.first?.baseline == 0.2)
        #expect(metrics.asked.withLock { $0 }.contains { $0.contains(#"slot="A""#) })
    }

    @Test func anUnhealthyHostEndsTheBake() async throws {
        let clock = FakeClock()
        let checks = Mutex(0)
        var window = makeWindow([], bake: .seconds(60), source: nil, clock: clock) {
            let count = checks.withLock { $0 += 1; return $0 }
            return count >= 3 ? ["web-01": HostFailure(.health, message: "slot B failed its health check")] : [:]
        }
        window.healthInterval = .seconds(5)
        let report = try await window.run()
        #expect(report.result == .unhealthy(["web-01": HostFailure(.health, message: "slot B failed its health check")]))
        #expect(clock.now.timeIntervalSince(Self.start) == 15, "checked every 5 s; the third check fails")
    }

    @Test func aBakeWithoutAnalysisChecksHealthAtItsEnd() async throws {
        let clock = FakeClock()
        let checks = Mutex(0)
        var window = makeWindow([], bake: .seconds(12), source: nil, clock: clock) {
            checks.withLock { $0 += 1 }
            return [:]
        }
        window.healthInterval = .seconds(5)
        let report = try await window.run()
        #expect(report.result == .passed)
        #expect(checks.withLock { $0 } == 3, "at 5 s, 10 s and the end")
    }

    @Test func noDataHoldsAndSaysSoOnceWithoutPromoting() async throws {
        let clock = FakeClock()
        let held = Mutex<[String]>([])
        var window = makeWindow([Self.metric()], source: FakeMetrics(release: nil, failing: true), clock: clock)
        window.onHeld = { metric, reason in held.withLock { $0.append("\(metric): \(reason)") } }
        let task = Task { try await window.run() }
        // Let it hold for a long time on the fake clock.
        while clock.now.timeIntervalSince(Self.start) < 3600 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let said = held.withLock { $0 }
        #expect(said.count == 1, "one notice per hold, not one per interval: \(said)")
        #expect(said.first?.contains("did not answer") == true)
    }

    @Test func noDataFailsWhenTheMetricSaysSo() async throws {
        let clock = FakeClock()
        let report = try await makeWindow([Self.metric(noData: .fail)], source: nil, clock: clock).run()
        guard case let .failed(_, reason) = report.result else { Issue.record("expected a failure"); return }
        #expect(reason.contains("no data") && reason.contains("--prometheus"))
    }

    @Test func noDataPassesWhenTheMetricSaysSo() async throws {
        let clock = FakeClock()
        let report = try await makeWindow([Self.metric(noData: .pass)], bake: .seconds(0), source: FakeMetrics(release: nil), clock: clock).run()
        #expect(report.result == .passed)
        #expect(report.measurements.map(\.outcome) == [.noData, .noData, .noData])
    }

    @Test func cancellationEndsTheWaitAtOnce() async throws {
        let clock = FakeClock()
        let window = makeWindow([Self.metric()], bake: .seconds(3600), source: FakeMetrics(release: 0.01), clock: clock)
        let task = Task { try await window.run() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func aRealSleepIsCancelledToo() async throws {
        // The default sleep is `Task.sleep`: a cancelled task stops waiting in well under the bake time.
        let release = QueryTemplate.Values(environment: "prod", slot: .b, hosts: ["web-01"], commit: "abc", version: "1.1.0")
        let window = BakeWindow(analysis: nil, bake: .seconds(600), release: release, stable: release, source: nil)
        let started = ContinuousClock.now
        let task = Task { try await window.run() }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
