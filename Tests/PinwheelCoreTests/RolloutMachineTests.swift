import Testing
@testable import PinwheelCore

@Suite("Rollout decisions")
struct RolloutMachineTests {
    let hosts = (1...8).map { "web-0\($0)" }

    func policy(canary: Int = 1, batch: BatchSize = .count(3), pause: ConfigDuration = .seconds(10),
                maxFailures: Int = 0, onFailure: Policy.FailureAction = .halt) -> Policy {
        Policy(name: "p", rollout: .init(prepare: 20, canary: canary, batch: batch, pause: pause,
                                         maxFailures: maxFailures, onFailure: onFailure))
    }

    /// A release: every host installs B, switches to it; A is warm and needs nothing.
    func release(_ names: [String]? = nil) -> [HostPlan] {
        (names ?? hosts).map { HostPlan(host: $0, activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b)) }
    }

    /// Runs the machine to the end, failing the hosts in `failing` at the named action kind.
    func run(_ machine: inout RolloutMachine, failing: [String: String] = [:]) -> [RolloutMachine.Action] {
        var actions: [RolloutMachine.Action] = []
        for _ in 0..<100 {
            let action = machine.next()
            actions.append(action)
            if case .finish = action { break }
            var failed: [String: HostFailure] = [:]
            switch action {
            case let .prepare(names), let .route(names, _), let .prepareIdle(names):
                for name in names {
                    if let kind = failing[name], kind == Self.kind(action) || kind == Self.kind(action) + "Host" {
                        failed[name] = Self.failure(kind)
                    }
                }
            case let .hook(_, name):
                if let kind = failing[name], kind == Self.kind(action) { failed[name] = Self.failure(kind) }
            default: break
            }
            machine.record(action, failed: failed)
        }
        return actions
    }

    /// How a host fails at an action kind: the code and step the agent would report.
    static func failure(_ kind: String) -> HostFailure {
        switch kind {
        case "prepare": HostFailure(.install, step: "prepare B", message: "pip install failed (exit 1)")
        case "route": HostFailure(.health, step: "switch to B", message: "slot B failed its health check after the switch")
        case "routeHost": HostFailure(.nginxTest, step: "switch to B", message: "`nginx -t` failed")
        case "prepareHost": HostFailure(.timeout, step: "prepare B", message: "the host did not answer in 300s")
        case "idle": HostFailure(.health, step: "check B", message: "slot B failed its health check")
        default: HostFailure(.hook, step: "\(kind) hook in B", message: "the \(kind) hook exited 3")
        }
    }

    static func kind(_ action: RolloutMachine.Action) -> String {
        switch action {
        case .observe: return "observe"
        case .prepare: return "prepare"
        case .route: return "route"
        case .prepareIdle: return "idle"
        case .pause: return "pause"
        case .bake: return "bake"
        case .rollBack: return "rollback"
        case let .hook(kind, _): return kind.rawValue
        case .finish: return "finish"
        }
    }

    @Test func aReleasePreparesEverywhereThenCanaryThenBatchesWithPauses() {
        var machine = RolloutMachine(policy: policy(), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine)
        #expect(actions == [
            .prepare(hosts),
            .route(["web-01"], stage: .canary),
            .pause(.seconds(10)),
            .route(["web-02", "web-03", "web-04"], stage: .batch(1)),
            .pause(.seconds(10)),
            .route(["web-05", "web-06", "web-07"], stage: .batch(2)),
            .pause(.seconds(10)),
            .route(["web-08"], stage: .batch(3)),
            .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")),
        ])
    }

    @Test func percentBatchesAreOfTheWholeFleet() {
        var machine = RolloutMachine(policy: policy(canary: 2, batch: .percent(50), pause: .seconds(0)), plans: release(), order: hosts, previous: [:])
        let routes = run(&machine).compactMap { action -> [String]? in
            if case let .route(names, _) = action { return names }
            return nil
        }
        #expect(routes == [["web-01", "web-02"], ["web-03", "web-04", "web-05", "web-06"], ["web-07", "web-08"]])
    }

    @Test func aFailedCanaryHaltsBeforeAnyOtherSwitch() {
        var machine = RolloutMachine(policy: policy(onFailure: .halt), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-01": "route"])
        #expect(actions.count == 3)
        #expect(actions[1] == .route(["web-01"], stage: .canary))
        guard case let .finish(outcome) = actions[2] else {
            Issue.record("expected finish, got \(actions[2])")
            return
        }
        #expect(outcome.result == .halted)
        #expect(outcome.failures.mapValues(\.code) == ["web-01": .health])
        #expect(outcome.failures["web-01"]?.step == "switch to B")
        #expect(outcome.reason?.code == "health" && outcome.reason?.step == "switch to B")
        #expect(!outcome.revert)
    }

    @Test func failuresInPrepareCountAndStopTheSwitch() {
        var machine = RolloutMachine(policy: policy(onFailure: .revert), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-03": "prepare"])
        #expect(actions.count == 2)
        guard case let .finish(outcome) = actions[1] else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.failures["web-03"]?.code == .install)
        #expect(outcome.revert, "onFailure: revert asks for a revert commit even when nothing was switched")
    }

    @Test func failuresWithinTheBudgetContinueAndEndDegraded() {
        var machine = RolloutMachine(policy: policy(pause: .seconds(0), maxFailures: 1), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-03": "prepare"])
        let switched = actions.flatMap { action -> [String] in
            if case let .route(names, _) = action { return names }
            return []
        }
        #expect(!switched.contains("web-03"), "a host that failed to prepare is never switched")
        #expect(switched.count == 7)
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .degraded)
    }

    /// A host's own fault (lost mid-prepare, its nginx broken outside Pinwheel's file) is not evidence against the
    /// release: under `maxFailures: 0` the others still get it, and the rollout ends degraded, naming that host.
    @Test(arguments: ["prepareHost", "routeHost"])
    func aHostsOwnFaultSkipsItWithoutHaltingTheRelease(_ kind: String) {
        var machine = RolloutMachine(policy: policy(pause: .seconds(0), maxFailures: 0), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-01": kind])
        let switched = actions.flatMap { action -> [String] in
            if case let .route(names, _) = action { return names }
            return []
        }
        #expect(Set(switched).isSuperset(of: hosts.dropFirst()), "every other host gets the release")
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .degraded)
        #expect(outcome.failures.keys.sorted() == ["web-01"])
        #expect(outcome.failures["web-01"]?.code.blame == .host)
        #expect(machine.hostFaults.keys.sorted() == ["web-01"] && machine.failures.isEmpty)
        #expect(!actions.contains { if case .prepareIdle(let names) = $0 { return names.contains("web-01") } else { return false } },
                "a faulty host gets no idle slot either")
    }

    @Test func evidenceAgainstTheReleaseStillHaltsBesideAHostFault() {
        var machine = RolloutMachine(policy: policy(pause: .seconds(0), maxFailures: 0), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-01": "prepareHost", "web-02": "route"])
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.reason?.code == "health", "the release's failure is the reason, not the host's")
        #expect(outcome.failures.keys.sorted() == ["web-01", "web-02"])
    }

    @Test(arguments: [FailureCode.install, .envFile, .supervisor, .health, .hook, .unknown("newCode")])
    func releaseEvidence(_ code: FailureCode) {
        #expect(code.blame == .release)
    }

    @Test(arguments: [FailureCode.unreachable, .timeout, .nginxTest, .nginxReload, .nginxVerify, .locked, .fenced,
                      .unsafeRoot, .hostKeyMismatch, .internal, .diskFull])
    func aHostsOwnFault(_ code: FailureCode) {
        #expect(code.blame == .host)
    }

    @Test func failuresAreCountedAcrossTheWholeRolloutNotPerBatch() {
        var machine = RolloutMachine(policy: policy(pause: .seconds(0), maxFailures: 1), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-02": "route", "web-06": "route"])
        // batch 1 (web-02..04) has one failure: within budget; batch 2 (web-05..07) adds a second: halt.
        #expect(actions.contains(.route(["web-05", "web-06", "web-07"], stage: .batch(2))))
        #expect(!actions.contains { if case let .route(names, _) = $0 { return names.contains("web-08") } else { return false } })
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.failures.keys.sorted() == ["web-02", "web-06"])
    }

    @Test func rollbackSwitchesBackOnlyTheHostsThisRolloutSwitched() {
        let previous = Dictionary(uniqueKeysWithValues: hosts.map { ($0, Slot.a) })
        var machine = RolloutMachine(policy: policy(pause: .seconds(0), onFailure: .rollback), plans: release(), order: hosts, previous: previous)
        let actions = run(&machine, failing: ["web-03": "route"])
        #expect(actions.contains(.rollBack(["web-01": .a, "web-02": .a, "web-04": .a])))
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.message.contains("hosts already switched went back"))
    }

    @Test func aSwitchToWarmSlotsGoesEverywhereAtOnce() {
        let plans = hosts.map { HostPlan(host: $0, route: .route(.a), idle: [.prepare(.b), .start(.b), .check(.b)]) }
        var machine = RolloutMachine(policy: policy(), plans: plans, order: hosts, previous: [:])
        let actions = run(&machine)
        #expect(actions == [
            .route(hosts, stage: .all),
            .prepareIdle(hosts),
            .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")),
        ])
    }

    @Test func idleFailuresDegradeButDoNotHalt() {
        let plans = hosts.map { HostPlan(host: $0, idle: [.prepare(.b)]) }
        var machine = RolloutMachine(policy: policy(), plans: plans, order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-05": "idle"])
        guard case let .finish(outcome) = actions.last else { Issue.record("expected finish"); return }
        #expect(outcome.result == .degraded)
        #expect(outcome.failures["web-05"]?.code == .health, "an idle slot's failure keeps its code")
        #expect(outcome.failures["web-05"]?.step == "check B")
    }

    @Test func nothingToDoConverges() {
        var machine = RolloutMachine(policy: policy(), plans: hosts.map { HostPlan(host: $0) }, order: hosts, previous: [:])
        #expect(run(&machine).count == 1)
    }

    @Test func zeroCanaryStartsWithABatch() {
        var machine = RolloutMachine(policy: policy(canary: 0, batch: .count(4), pause: .seconds(1)), plans: release(), order: hosts, previous: [:])
        let actions = run(&machine)
        #expect(actions[1] == .route(["web-01", "web-02", "web-03", "web-04"], stage: .batch(1)))
        #expect(actions[2] == .pause(.seconds(1)))
    }
}
