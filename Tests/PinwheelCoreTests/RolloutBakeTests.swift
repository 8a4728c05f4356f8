import Testing
@testable import PinwheelCore

/// `bake:` and `analysis:` in the rollout's decisions: where the bakes go, what a failed analysis or an unhealthy
/// host during a bake does, and that a policy without them gets nothing added.
@Suite("Rollout decisions: bake and analysis")
struct RolloutBakeTests {
    let hosts = (1...5).map { "web-0\($0)" }

    static let errorRatio = MetricAnalysis(metrics: [
        .init(name: "error-ratio", query: try! QueryTemplate(#"sum(rate(x{slot="{{slot}}"}[1m]))"#), rule: .threshold(min: nil, max: 0.05)),
    ])

    func policy(bake: ConfigDuration = .seconds(60), analysis: MetricAnalysis? = RolloutBakeTests.errorRatio,
                pause: ConfigDuration = .seconds(0), maxFailures: Int = 0, onFailure: Policy.FailureAction = .revert) -> Policy {
        var policy = Policy(name: "p", rollout: .init(prepare: 20, canary: 1, batch: .count(2), pause: pause,
                                                      maxFailures: maxFailures, onFailure: onFailure))
        policy.bake = bake
        policy.analysis = analysis
        return policy
    }

    func release() -> [HostPlan] {
        hosts.map { HostPlan(host: $0, activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b)) }
    }

    func machine(_ policy: Policy) -> RolloutMachine {
        RolloutMachine(policy: policy, plans: release(), order: hosts, previous: Dictionary(uniqueKeysWithValues: hosts.map { ($0, Slot.a) }))
    }

    /// Runs to the end; `bake` answers each bake: hosts that failed their health check, or an analysis failure.
    func run(_ machine: inout RolloutMachine,
             bake: (Stage) -> (failed: [String: HostFailure], analysis: String?) = { _ in ([:], nil) }) -> [RolloutMachine.Action] {
        var actions: [RolloutMachine.Action] = []
        for _ in 0..<100 {
            let action = machine.next()
            actions.append(action)
            if case .finish = action { break }
            if case let .bake(_, stage, _) = action {
                let (failed, analysis) = bake(stage)
                if let analysis { machine.recordAnalysisFailure(analysis) }
                machine.record(action, failed: failed)
            } else {
                machine.record(action, failed: [:])
            }
        }
        return actions
    }

    @Test func theCanaryAndEveryBatchAreBakedThenPaused() {
        var machine = machine(policy(pause: .seconds(10)))
        let actions = run(&machine)
        #expect(actions == [
            .prepare(hosts),
            .route(["web-01"], stage: .canary),
            .bake(["web-01"], after: .canary, duration: .seconds(60)),
            .pause(.seconds(10)),
            .route(["web-02", "web-03"], stage: .batch(1)),
            .bake(["web-01", "web-02", "web-03"], after: .batch(1), duration: .seconds(60)),
            .pause(.seconds(10)),
            .route(["web-04", "web-05"], stage: .batch(2)),
            .bake(hosts, after: .batch(2), duration: .seconds(60)),
            .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")),
        ])
    }

    @Test func aPolicyWithoutBakeOrAnalysisGetsNothingAdded() {
        var machine = machine(policy(bake: .seconds(0), analysis: nil))
        let actions = run(&machine)
        #expect(!actions.contains { if case .bake = $0 { true } else { false } })
        #expect(actions.count == 5)
    }

    @Test func analysisAloneBakesToo() {
        var machine = machine(policy(bake: .seconds(0)))
        let bakes = run(&machine).filter { if case .bake = $0 { true } else { false } }
        #expect(bakes.count == 3)
    }

    @Test func aFailedAnalysisAtTheCanaryHaltsRollsBackAndReverts() {
        var machine = machine(policy(maxFailures: 3))
        let actions = run(&machine) { stage in
            stage == .canary ? ([:], "canary: error-ratio = 0.3, expected ≤ 0.05 (1 of 3 failed, 0 allowed)") : ([:], nil)
        }
        #expect(Array(actions.suffix(2)).first == .rollBack(["web-01": .a]), "the canary goes back to the slot it served")
        #expect(!actions.contains(.route(["web-02", "web-03"], stage: .batch(1))), "no batch after a failed analysis")
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.revert)
        #expect(outcome.message.contains("the analysis failed: canary: error-ratio = 0.3"))
        #expect(outcome.message.contains("reverted"))
        #expect(outcome.reason?.code == "analysis")
        #expect(outcome.analysisFailure?.contains("error-ratio") == true)
    }

    @Test func aFailedAnalysisUnderOnFailureHaltLeavesHostsSwitched() {
        var machine = machine(policy(onFailure: .halt))
        let actions = run(&machine) { stage in stage == .batch(1) ? ([:], "batch 1: latency failed") : ([:], nil) }
        #expect(!actions.contains { if case .rollBack = $0 { true } else { false } })
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted && !outcome.revert)
        #expect(outcome.message.contains("no further host was switched"))
    }

    @Test func aHostFailingItsHealthCheckDuringTheBakeCountsAsAFailedSwitch() {
        var machine = machine(policy(onFailure: .rollback))
        let actions = run(&machine) { stage in
            stage == .batch(1) ? (["web-02": HostFailure(.health, step: "check B", message: "slot B failed its health check")], nil) : ([:], nil)
        }
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.failures["web-02"]?.code == .health)
        #expect(actions.contains(.rollBack(["web-01": .a, "web-02": .a, "web-03": .a])))
    }

    @Test func anUnhealthyHostWithinTheBudgetGoesOn() {
        var machine = machine(policy(maxFailures: 1))
        let actions = run(&machine) { stage in
            stage == .canary ? (["web-01": HostFailure(.health, message: "unhealthy")], nil) : ([:], nil)
        }
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .degraded)
        #expect(actions.contains(.route(["web-04", "web-05"], stage: .batch(2))))
    }

    @Test func aRollbackToWarmSlotsIsNeverBaked() {
        let plans = hosts.map { HostPlan(host: $0, activate: [], route: .route(.a)) }
        var machine = RolloutMachine(policy: policy(), plans: plans, order: hosts, previous: Dictionary(uniqueKeysWithValues: hosts.map { ($0, Slot.b) }))
        let actions = run(&machine)
        #expect(actions.first == .route(hosts, stage: .all))
        #expect(!actions.contains { if case .bake = $0 { true } else { false } })
    }

    @Test func theBakeIsAStageOfItsOwn() {
        let action = RolloutMachine.Action.bake(["web-01"], after: .canary, duration: .seconds(30))
        #expect(action.stage == .bake)
        #expect(action.hosts == ["web-01"])
        #expect(Stage.bake.name == "bake")
        #expect(!Stage.bake.runsHostSteps && !Stage.bake.switchesHosts)
    }
}
