import Testing
@testable import PinwheelCore

/// A slot rebuilt while it serves (a program setting changed) restarts its processes: host by host, at the
/// policy's pace, never on every host at once.
extension RolloutMachineTests {
    /// A settings change: every host rebuilds A, which nginx routes to, in place.
    func settingsChange() -> [HostPlan] {
        hosts.map {
            HostPlan(host: $0, activate: [.prepare(.a), .start(.a), .check(.a)], route: .route(.a), rebuildsServingSlot: true)
        }
    }

    @Test func aServingSlotIsRebuiltAsPartOfEachSwitchNotAllAtOnce() {
        var machine = RolloutMachine(policy: policy(pause: .seconds(0)), plans: settingsChange(), order: hosts, previous: [:])
        let actions = run(&machine)
        #expect(actions == [
            .route(["web-01"], stage: .canary),
            .route(["web-02", "web-03", "web-04"], stage: .batch(1)),
            .route(["web-05", "web-06", "web-07"], stage: .batch(2)),
            .route(["web-08"], stage: .batch(3)),
            .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")),
        ])
        #expect(machine.plans["web-01"]?.prepareSteps == [])
        #expect(machine.plans["web-01"]?.switchSteps == [.prepare(.a), .start(.a), .check(.a), .route(.a), .check(.a)])
    }

    @Test func aCanaryWhoseServingSlotFailsToRebuildLeavesEveryOtherHostUntouched() {
        var machine = RolloutMachine(policy: policy(pause: .seconds(0)), plans: settingsChange(), order: hosts, previous: [:])
        let actions = run(&machine, failing: ["web-01": "route"])
        #expect(actions.filter { if case .route = $0 { return true } else { return false } } == [.route(["web-01"], stage: .canary)])
        guard case let .finish(outcome) = actions.last else { Issue.record("no finish"); return }
        #expect(outcome.result == .halted)
        #expect(outcome.failures.keys.sorted() == ["web-01"])
    }

    @Test func aReleaseAndAServingSlotRebuildTogetherPrepareOnlyTheRelease() {
        let plans = [HostPlan(host: "web-01", activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b))]
            + settingsChange().dropFirst()
        var machine = RolloutMachine(policy: policy(pause: .seconds(0)), plans: plans, order: hosts, previous: [:])
        #expect(machine.next() == .prepare(["web-01"]))
    }
}
