import Testing
@testable import PinwheelCore

@Suite("Release hooks")
struct ReleaseHookTests {
    let machines = RolloutMachineTests()
    var hosts: [String] { machines.hosts }

    static let migrate = ReleaseHooks.Hook(command: "django-admin migrate", program: "web")
    static let warm = ReleaseHooks.Hook(command: "warm-cache", program: "web")

    /// A rollback: every host switches back to its warm slot A.
    func rollback() -> [HostPlan] {
        hosts.map { HostPlan(host: $0, route: .route(.a)) }
    }

    @Test func beforeSwitchRunsOnceAfterEveryHostPreparedAndAfterSwitchAfterTheLastBatch() {
        var machine = RolloutMachine(policy: machines.policy(pause: .seconds(0)), plans: machines.release(), order: hosts,
                                     previous: [:], hooks: ReleaseHooks(beforeSwitch: Self.migrate, afterSwitch: Self.warm))
        let actions = machines.run(&machine)
        #expect(actions == [
            .prepare(hosts),
            .hook(.beforeSwitch, host: "web-01"),
            .route(["web-01"], stage: .canary),
            .route(["web-02", "web-03", "web-04"], stage: .batch(1)),
            .route(["web-05", "web-06", "web-07"], stage: .batch(2)),
            .route(["web-08"], stage: .batch(3)),
            .hook(.afterSwitch, host: "web-01"),
            .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")),
        ])
    }

    @Test func aFailedBeforeSwitchHaltsBeforeAnyTrafficMoves() {
        var machine = RolloutMachine(policy: machines.policy(maxFailures: 3, onFailure: .revert), plans: machines.release(),
                                     order: hosts, previous: [:], hooks: ReleaseHooks(beforeSwitch: Self.migrate, afterSwitch: Self.warm))
        let actions = machines.run(&machine, failing: ["web-01": "beforeSwitch"])
        #expect(actions.count == 3)
        #expect(!actions.contains { if case .route = $0 { return true } else { return false } })
        guard case let .finish(outcome) = actions.last else {
            Issue.record("no finish: \(actions)")
            return
        }
        #expect(outcome.result == .halted)
        #expect(outcome.revert)
        #expect(outcome.failures.mapValues(\.code) == ["web-01": .hook], "the hook's failure is the host's")
        #expect(outcome.failures["web-01"]?.step == "beforeSwitch hook in B")
        #expect(outcome.message.hasPrefix("halted before any host switched"))
    }

    @Test func aFailedAfterSwitchDegradesButKeepsEveryHostSwitched() {
        var machine = RolloutMachine(policy: machines.policy(pause: .seconds(0)), plans: machines.release(), order: hosts,
                                     previous: [:], hooks: ReleaseHooks(afterSwitch: Self.warm))
        let actions = machines.run(&machine, failing: ["web-01": "afterSwitch"])
        guard case let .finish(outcome) = actions.last else {
            Issue.record("no finish: \(actions)")
            return
        }
        #expect(actions.filter { if case .route = $0 { return true } else { return false } }.count == 4)
        #expect(outcome.result == .degraded)
        #expect(outcome.failures.isEmpty, "after the switch the hosts serve: an afterSwitch failure degrades, no host failed")
        #expect(outcome.message.contains("afterSwitch"))
    }

    @Test func aRollbackRunsNoHooksUnlessOneOptsIn() {
        var plain = RolloutMachine(policy: machines.policy(), plans: rollback(), order: hosts, previous: [:],
                                   hooks: ReleaseHooks(beforeSwitch: Self.migrate, afterSwitch: Self.warm))
        #expect(!machines.run(&plain).contains { if case .hook = $0 { return true } else { return false } })

        var optIn = Self.migrate
        optIn.onRollback = true
        var opted = RolloutMachine(policy: machines.policy(), plans: rollback(), order: hosts, previous: [:],
                                   hooks: ReleaseHooks(beforeSwitch: optIn, afterSwitch: Self.warm))
        let actions = machines.run(&opted)
        #expect(Array(actions.prefix(2)) == [.hook(.beforeSwitch, host: "web-01"), .route(hosts, stage: .all)])
        #expect(!actions.contains(.hook(.afterSwitch, host: "web-01")))
    }

    @Test func aBeforeSwitchThatRunsOnRollbacksKeepsObservingFromSwitching() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        var optIn = Self.migrate
        optIn.onRollback = true
        var machine = RolloutMachine(policy: environment.policy, targets: environment.targets,
                                     hooks: ReleaseHooks(beforeSwitch: optIn))
        #expect(machine.next() == .observe(environment.hosts.map(\.name), switchingTo: nil))
        var plain = RolloutMachine(policy: environment.policy, targets: environment.targets,
                                   hooks: ReleaseHooks(beforeSwitch: Self.migrate))
        #expect(plain.next() == .observe(environment.hosts.map(\.name), switchingTo: .a))
    }

    @Test func hooksAreReadWithTheirDefaults() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment + """
            hooks:
              prepare: django-admin collectstatic --noinput
              beforeSwitch: {command: django-admin migrate, timeout: 30m, onRollback: true}
              afterSwitch: {command: warm-cache, program: worker}

            """
        let environment = try ConfigLoader(source: InMemorySource(files)).environment("prod")
        #expect(environment.hooks.prepare == ReleaseHooks.Hook(command: "django-admin collectstatic --noinput", program: "web"))
        #expect(environment.hooks.beforeSwitch == ReleaseHooks.Hook(command: "django-admin migrate", timeout: .seconds(1800), onRollback: true, program: "web"))
        #expect(environment.hooks.afterSwitch == ReleaseHooks.Hook(command: "warm-cache", program: "worker"))
        // The prepare hook is part of what a slot is built from; the switch hooks are not.
        let plain = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let withHooks = environment.slotSpec(.a, on: environment.hosts[0])
        let without = plain.slotSpec(.a, on: plain.hosts[0])
        #expect(SlotFingerprint.build(of: withHooks) != SlotFingerprint.build(of: without))
        var switchOnly = files
        switchOnly[Fixture.environmentPath] = Fixture.environment + "hooks: {beforeSwitch: django-admin migrate}\n"
        let switching = try ConfigLoader(source: InMemorySource(switchOnly)).environment("prod")
        #expect(SlotFingerprint.of(switching.slotSpec(.a, on: switching.hosts[0])) == SlotFingerprint.of(without))
    }
}
