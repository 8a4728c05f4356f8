import Testing
@testable import PinwheelCore

/// One vocabulary of stages for the log, the progress line, `apply --json`, `--timings`, the page and the API.
@Suite("Rollout stages")
struct StageTests {
    @Test func everyActionNamesItsStageOnce() {
        let cases: [(RolloutMachine.Action, String, [String])] = [
            (.observe(["w1", "w2"], switchingTo: nil), "observe", ["w1", "w2"]),
            (.prepare(["w1"]), "prepare", ["w1"]),
            (.route(["w1"], stage: .canary), "canary", ["w1"]),
            (.route(["w2", "w3"], stage: .batch(2)), "batch 2", ["w2", "w3"]),
            (.route(["w1", "w2"], stage: .all), "all", ["w1", "w2"]),
            (.pause(.seconds(5)), "pause", []),
            (.prepareIdle(["w1"]), "idle", ["w1"]),
            (.rollBack(["w2": .a, "w1": .a]), "roll back", ["w1", "w2"]),
            (.hook(.beforeSwitch, host: "w1"), "beforeSwitch hook", ["w1"]),
        ]
        for (action, name, hosts) in cases {
            #expect(action.stage?.name == name)
            #expect(action.hosts == hosts)
        }
        #expect(RolloutMachine.Action.finish(.init(result: .converged, failures: [:], revert: false, message: "")).stage == nil)
        #expect(Stage.warmSwitch.name == "warm switch")
    }

    @Test func onlySwitchingStagesPutHostsOnTheNewSlot() {
        let switching: [Stage] = [.warmSwitch, .canary, .batch(1), .all]
        let others: [Stage] = [.observe, .prepare, .pause, .idle, .rollBack, .hook(.afterSwitch)]
        #expect(switching.allSatisfy { $0.switchesHosts })
        #expect(!others.contains { $0.switchesHosts })
        #expect(!Stage.observe.runsHostSteps && !Stage.pause.runsHostSteps && Stage.prepare.runsHostSteps)
    }
}
