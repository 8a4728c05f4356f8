import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelFleet
@testable import PinwheelEngine

/// The engine's safe points, on in-memory hosts: cancelling the task that runs a reconcile (a newer commit, apply's
/// Ctrl-C) ends a pause at once, starts no host not yet reached, and never cuts a host's round trip under way — an
/// in-memory host's held round trip ends as a killed ssh client would if its task is cancelled, so a switch that
/// completes proves the round trip ran shielded.
@Suite("Interrupted reconcile")
struct InterruptedReconcileTests {
    /// Three hosts serving 1.0.0 from A, then a release of 1.1.0 into B: one host per batch, ten-minute pauses.
    static func released(prepare: Int = 20) async throws -> InMemoryTestFleet {
        let fleet = try InMemoryTestFleet(hosts: 3)
        _ = try await reconciler(fleet).reconcile()
        try #require(fleet.serves(["hello-service==1.0.0"]))
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: \(prepare), canary: 1, batch: 1, pause: 10m, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}

            """)
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        return fleet
    }

    static func reconciler(_ fleet: InMemoryTestFleet, events: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) throws -> EnvironmentReconciler {
        let environment = try fleet.environment()
        let agents = try fleet.agents.agents(for: environment, source: DirectoryConfigSource(root: fleet.config), commit: nil)
        return EnvironmentReconciler(environment: environment, agents: agents, events: events)
    }

    /// Waits until `condition` holds, at most about ten seconds.
    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<1000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the condition never held")
    }

    @Test func aSwitchUnderWayFinishesAndNoOtherHostIsSwitched() async throws {
        let fleet = try await Self.released()
        fleet.host(0).hold("route")
        let mark = fleet.agents.exchanges.count
        let engine = try Self.reconciler(fleet)
        let rollout = Task { await engine.reconcile() }
        try await Self.waitUntil { fleet.host(0).heldRoundTrips == 1 }
        rollout.cancel()
        // The cancellation does not reach the canary's round trip: it still waits, then switches when let go.
        try await Task.sleep(for: .milliseconds(200))
        #expect(fleet.host(0).heldRoundTrips == 1)
        fleet.host(0).release()
        let report = await rollout.value

        #expect(fleet.slot(0) == "B" && fleet.serves(["hello-service==1.1.0"], hosts: [0]), "the canary's switch completed")
        #expect(fleet.slot(1) == "A" && fleet.slot(2) == "A")
        #expect(!fleet.agents.exchanges(since: mark).contains { $0.host != fleet.name(0) && $0.steps.first == .route(.b) })
        let interruption = try #require(report.interruption)
        #expect(interruption.stage == .canary)
        #expect(interruption.switched == [fleet.name(0)])
        #expect(interruption.pending == [fleet.name(1), fleet.name(2)])
        #expect(report.outcome.result == .progressing && report.outcome.failures.isEmpty)
        #expect(report.hosts.map(\.outcome) == [.changed, .interrupted, .interrupted])
    }

    @Test func aPauseEndsAtOnce() async throws {
        let fleet = try await Self.released()
        let paused = Flag()
        let engine = try Self.reconciler(fleet) { event in
            if case .started(.pause) = event { paused.set() }
        }
        let ended = Flag()
        let rollout = Task {
            defer { ended.set() }
            return await engine.reconcile()
        }
        try await Self.waitUntil { paused.isSet }
        rollout.cancel()
        // Ten minutes of pause were left: the report comes back at once (a hang guard, not a speed target).
        try await Self.waitUntil { ended.isSet }
        try #require(ended.isSet, "the pause did not end")
        let report = await rollout.value
        let interruption = try #require(report.interruption)
        #expect(interruption.stage == .pause)
        #expect(interruption.switched == [fleet.name(0)])
        #expect(interruption.pending == [fleet.name(1), fleet.name(2)])
        #expect(fleet.slot(1) == "A" && fleet.slot(2) == "A")
    }

    @Test func aHostWhoseRoundTripHasNotStartedIsNotTouched() async throws {
        // One host prepares at a time: the first is held in its prepare when the rollout is cancelled.
        let fleet = try await Self.released(prepare: 1)
        for index in 0..<3 { fleet.host(index).hold("prepare") }
        let mark = fleet.agents.exchanges.count
        let engine = try Self.reconciler(fleet)
        let rollout = Task { await engine.reconcile() }
        try await Self.waitUntil { (0..<3).map { fleet.host($0).heldRoundTrips }.reduce(0, +) == 1 }
        let started = try #require((0..<3).first { fleet.host($0).heldRoundTrips == 1 })
        rollout.cancel()
        for index in 0..<3 { fleet.host(index).release() }
        let report = await rollout.value

        // The prepare under way finished; the others were never asked to prepare; nothing switched.
        #expect(fleet.host(started).slot(.b).manifest?.pins == ["hello-service==1.1.0"])
        let prepared = Set(fleet.agents.exchanges(since: mark).filter { $0.steps.first == .prepare(.b) }.map(\.host))
        #expect(prepared == [fleet.name(started)])
        for index in 0..<3 where index != started {
            #expect(fleet.host(index).slot(.b).manifest?.pins == ["hello-service==1.0.0"], "not touched")
        }
        #expect((0..<3).allSatisfy { fleet.slot($0) == "A" })
        let interruption = try #require(report.interruption)
        #expect(interruption.stage == .prepare)
        #expect(interruption.switched.isEmpty)
        #expect(interruption.pending.count == 3)
        #expect(report.outcome.failures.isEmpty, "a host left out is not a failed host")
    }
}

/// Set once, read from any task.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
