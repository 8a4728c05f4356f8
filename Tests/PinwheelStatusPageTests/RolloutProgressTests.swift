import PinwheelController
import PinwheelCore
@testable import PinwheelFleet
import PinwheelEngine
import Testing

/// The rollout progress the page shows, kept from the engine's events: pure, no fleet.
@Suite struct RolloutProgressTests {
    static func phase(_ host: String, stage: Stage, error: HostFailure? = nil) -> ReconcileEvent {
        .phase(PhaseResult(host: host, requested: [], error: error), stage: stage)
    }

    static let unhealthy = HostFailure(.health, step: "check B", message: "slot B failed its health check",
                                       detail: "Traceback: KeyError 'DATABASE_URL'")
    static let nginxRefused = HostFailure(.nginxTest, step: "switch to B", message: "`nginx -t` failed")

    @Test func countsHostsThatAlreadyServeAndThoseSwitchedSince() {
        var progress = RolloutProgress(commit: "c0ffee", started: "2026-11-24T00:00:00Z", hosts: 4)
        #expect(progress.stage == "observe" && progress.done == 0)
        progress.record(.started(.observe(["w1", "w2", "w3", "w4"], switchingTo: nil)))
        progress.record(.planned([
            HostPlan(host: "w1"),
            HostPlan(host: "w2", activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b)),
            HostPlan(host: "w3", activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b)),
        ], of: 4))
        #expect(progress.done == 1, "w1 needs nothing")
        #expect(progress.stageDone == 4)

        progress.record(.started(.prepare(["w2", "w3"])))
        #expect(progress.stage == "prepare" && progress.stageHosts == 2 && progress.stageDone == 0)
        progress.record(Self.phase("w2", stage: .prepare))
        #expect(progress.stageDone == 1)
        #expect(progress.done == 1, "a prepared host does not serve the new slot yet")

        progress.record(.started(.route(["w2"], stage: .canary)))
        progress.record(Self.phase("w2", stage: .canary))
        #expect(progress.stage == "canary" && progress.stageDone == 1 && progress.done == 2)

        progress.record(.started(.route(["w3"], stage: .batch(1))))
        progress.record(Self.phase("w3", stage: .batch(1), error: Self.unhealthy))
        #expect(progress.done == 2)
        #expect(progress.reasons == ["w3": StatusReason(code: "health", step: "check B", message: "slot B failed its health check")])
        #expect(progress.details["w3"] == "Traceback: KeyError 'DATABASE_URL'", "the page shows what the host printed")
        progress.record(.unreachable("w4", FleetError(.unreachable, "ssh: connection refused").failure))
        #expect(progress.reasons["w4"]?.code == "unreachable")
    }

    @Test func aRollBackUndoesTheSwitchAndFinishingClearsTheStage() {
        var progress = RolloutProgress(commit: "c0ffee", started: "t", hosts: 2)
        progress.record(.started(.route(["w1", "w2"], stage: .all)))
        progress.record(Self.phase("w1", stage: .all))
        progress.record(Self.phase("w2", stage: .all))
        #expect(progress.done == 2)
        progress.record(.started(.rollBack(["w1": .a])))
        #expect(progress.stage == "roll back" && progress.stageHosts == 1)
        progress.record(Self.phase("w1", stage: .rollBack))
        #expect(progress.done == 1)
        progress.record(.started(.pause(ConfigDuration(parsing: "5s")!)))
        #expect(progress.stage == "pause" && progress.stageHosts == 0)
        progress.record(.finished(.init(result: .halted, failures: [:], revert: false, message: "halted")))
        #expect(progress.stage == "finishing")
    }

    @Test func keepsWhatEachHostReportedAndTheOverviewShowsIt() {
        var progress = RolloutProgress(commit: "c0ffee", started: "t", hosts: 2)
        progress.record(.started(.route(["w1"], stage: .canary)))
        progress.record(.phase(PhaseResult(host: "w1", requested: [.route(.b)], observation: HostObservation(routed: .b)), stage: .canary))
        progress.record(.phase(PhaseResult(host: "w2", requested: [.route(.b)], error: Self.nginxRefused,
                                           observation: HostObservation(routed: .a)), stage: .canary))
        #expect(progress.reported["w1"]?.serving == .b)
        #expect(progress.reported["w2"]?.serving == .a && progress.reported["w2"]?.healthy == false)
        #expect(progress.reported["w2"]?.reason?.code == "nginxTest")

        let old = EnvironmentStatus.HostStatus(serving: .a, slots: [:], healthy: true)
        let status = EnvironmentStatus(environment: "prod", desired: "old", result: .converged, message: "", time: "t", active: .a,
                                       pins: [], hosts: ["w1": old, "w2": old, "w3": old])
        let overview = EnvironmentOverview(status: status, progress: progress)
        #expect(overview.status.hosts["w1"]?.serving == .b)
        #expect(overview.status.hosts["w2"]?.reason?.code == "nginxTest")
        #expect(overview.status.hosts["w3"] == old, "a host that has not reported keeps the last status's entry")
        #expect(EnvironmentOverview(environment: "new", progress: progress).status.hosts.keys.sorted() == ["w1", "w2"])
    }

    @Test func aWarmSwitchWhileObservingCountsAsDone() {
        var progress = RolloutProgress(commit: "c0ffee", started: "t", hosts: 1)
        progress.record(.started(.observe(["w1"], switchingTo: .a)))
        progress.record(Self.phase("w1", stage: .warmSwitch))
        #expect(progress.done == 1)
    }

    @Test func theBoardKeepsOneRecordPerRolloutAndForgetsItAtTheEnd() {
        let board = ProgressBoard()
        board.record(.started(.prepare(["w1"])), environment: "prod", commit: "one", hosts: 3, now: "t1")
        board.record(Self.phase("w1", stage: .prepare), environment: "prod", commit: "one", hosts: 3, now: "t2")
        #expect(board.snapshot()["prod"]?.started == "t1")
        #expect(board.snapshot()["prod"]?.stageDone == 1)
        // A new commit is a new rollout.
        board.record(.started(.prepare(["w1"])), environment: "prod", commit: "two", hosts: 3, now: "t3")
        #expect(board.snapshot()["prod"]?.commit == "two" && board.snapshot()["prod"]?.stageDone == 0)
        board.end("prod")
        #expect(board.snapshot().isEmpty)
    }
}
