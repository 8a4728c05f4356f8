import Testing
@testable import PinwheelCore

/// The machine's first stage: it observes the hosts itself (switching warm ones in that round trip) and plans each
/// host from what it found, so `apply` and `watch` make the same decisions from the same observations.
@Suite("Rollout decisions: observing and warm switches")
struct RolloutObserveTests {
    let environment: Environment

    init() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: """
              - name: web-02
                address: 10.0.0.12
                port: 2222
            """, with: """
              - name: web-02
                address: 10.0.0.12
              - name: web-03
                address: 10.0.0.13
              - name: web-04
                address: 10.0.0.14
            """)
        environment = try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    var names: [String] { environment.hosts.map(\.name) }

    /// What a host reports with `slots` prepared as desired, running, healthy and routed to `routed`.
    func observation(of host: FleetHost, prepared slots: [Slot], routed: Slot?, served: [Slot] = []) -> HostObservation {
        let target = environment.target(for: host)
        var observation = HostObservation()
        for slot in slots {
            var processes: [String: [String]] = [:]
            for program in target.slots[slot].spec.programs {
                processes[program.supervisorName] = Array(repeating: "RUNNING", count: program.processes)
            }
            observation.slots[slot] = SlotObservation(
                manifest: SlotManifest(fingerprint: target.slots[slot].fingerprint, pins: [],
                                       servedAt: served.contains(slot) ? "2026-11-23T06:00:00Z" : nil),
                processes: processes, healthy: true)
        }
        observation.routed = routed
        observation.routedFingerprint = routed.map { target.slots[$0].fingerprint }
        return observation
    }

    func policy(canary: Int = 1, batch: BatchSize = .count(1), pause: ConfigDuration = .seconds(2)) -> Policy {
        Policy(name: "p", rollout: .init(prepare: 10, canary: canary, batch: batch, pause: pause, maxFailures: 0, onFailure: .halt))
    }

    @Test func theFirstActionObservesEveryHostAndOffersTheWarmSwitch() {
        var machine = RolloutMachine(policy: policy(), targets: environment.targets)
        #expect(machine.next() == .observe(names, switchingTo: .a))
        var plain = RolloutMachine(policy: policy(), targets: environment.targets, switchingWarm: false)
        #expect(plain.next() == .observe(names, switchingTo: nil))
    }

    @Test func aFirstDeployIsPlannedFromWhatWasObservedAndPacedByThePolicy() {
        var machine = RolloutMachine(policy: policy(), targets: environment.targets)
        _ = machine.next()
        machine.recordObserved(Dictionary(uniqueKeysWithValues: names.map { ($0, RolloutMachine.Observed(observation: HostObservation())) }))
        var actions: [RolloutMachine.Action] = []
        while true {
            let action = machine.next()
            actions.append(action)
            if case .finish = action { break }
            machine.record(action, failed: [:])
        }
        #expect(actions == [
            .prepare(names),
            .route(["web-01"], stage: .canary),
            .pause(.seconds(2)),
            .route(["web-02"], stage: .batch(1)),
            .pause(.seconds(2)),
            .route(["web-03"], stage: .batch(2)),
            .pause(.seconds(2)),
            .route(["web-04"], stage: .batch(3)),
            .prepareIdle(names),
            .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")),
        ])
    }

    @Test func hostsThatSwitchedWarmWhileObservedNeedNoFurtherSwitch() {
        var machine = RolloutMachine(policy: policy(), targets: environment.targets)
        _ = machine.next()
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in environment.hosts {
            observed[host.name] = .init(observation: observation(of: host, prepared: [.a, .b], routed: .a), switched: true)
        }
        machine.recordObserved(observed)
        #expect(machine.switchedWarm == names)
        #expect(machine.next() == .finish(.init(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")))
    }

    @Test func unreachableHostsAreLeftOutAndDegradeTheResult() {
        var machine = RolloutMachine(policy: policy(), targets: environment.targets)
        _ = machine.next()
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in environment.hosts {
            observed[host.name] = host.name == "web-03"
                ? .init(observation: nil, error: HostFailure(.unreachable, message: "web-03 is unreachable"))
                : .init(observation: observation(of: host, prepared: [.a, .b], routed: .a))
        }
        machine.recordObserved(observed)
        #expect(machine.unreachable.mapValues(\.code) == ["web-03": .unreachable])
        guard case let .finish(outcome) = machine.next() else { Issue.record("expected finish"); return }
        #expect(outcome.result == .degraded)
        #expect(outcome.message.contains("web-03"))
        #expect(outcome.failures.isEmpty, "an unreachable host is not a failed one")
    }

    @Test func aWarmSwitchThatFailedCountsAgainstTheBudget() {
        var machine = RolloutMachine(policy: policy(), targets: environment.targets)
        _ = machine.next()
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in environment.hosts {
            // Slot B was active; A is warm but web-02's nginx refused the switch, so it still routes to B.
            observed[host.name] = host.name == "web-02"
                ? .init(observation: observation(of: host, prepared: [.a, .b], routed: .b), error: HostFailure(.nginxTest, step: "switch to A", message: "`nginx -t` failed"))
                : .init(observation: observation(of: host, prepared: [.a, .b], routed: .a), switched: true)
        }
        machine.recordObserved(observed)
        guard case let .finish(outcome) = machine.next() else { Issue.record("expected finish"); return }
        #expect(outcome.result == .halted, "one failure is past maxFailures 0")
        #expect(outcome.failures["web-02"]?.code == .nginxTest)
    }

    @Test func thePreviousSlotOfEachHostIsWhatARollbackGoesBackTo() {
        let rollback = Policy(name: "p", rollout: .init(prepare: 10, canary: 1, batch: .count(1), pause: .seconds(0),
                                                        maxFailures: 0, onFailure: .rollback))
        var machine = RolloutMachine(policy: rollback, targets: environment.targets)
        _ = machine.next()
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in environment.hosts {
            // Only B is warm and routed: A (active) must be prepared everywhere.
            observed[host.name] = .init(observation: observation(of: host, prepared: [.b], routed: .b), routedBefore: .b)
        }
        machine.recordObserved(observed)
        #expect(machine.next() == .prepare(names))
        machine.record(.prepare(names), failed: [:])
        #expect(machine.next() == .route(["web-01"], stage: .canary))
        machine.record(.route(["web-01"], stage: .canary), failed: [:])
        #expect(machine.next() == .route(["web-02"], stage: .batch(1)))
        machine.record(.route(["web-02"], stage: .batch(1)), failed: ["web-02": HostFailure(.health, step: "check B", message: "slot B failed its health check")])
        #expect(machine.next() == .rollBack(["web-01": .b]))
    }

    @Test func aBuildThatNeverServedIsSwitchedToAtThePolicysPace() {
        // A rollout killed after every host prepared slot A and only the canary switched: on restart, A is warm
        // everywhere, but on web-02..04 it never served, so the batches go on as the policy says.
        var machine = RolloutMachine(policy: policy(pause: .seconds(0)), targets: environment.targets)
        _ = machine.next()
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in environment.hosts {
            observed[host.name] = host.name == "web-01"
                ? .init(observation: observation(of: host, prepared: [.a, .b], routed: .a, served: [.a, .b]), switched: false)
                : .init(observation: observation(of: host, prepared: [.a, .b], routed: .b, served: [.b]), routedBefore: .b)
        }
        machine.recordObserved(observed)
        #expect(machine.next() == .route(["web-02"], stage: .canary))
        machine.record(.route(["web-02"], stage: .canary), failed: [:])
        #expect(machine.next() == .route(["web-03"], stage: .batch(1)))
    }

    @Test func aRollbackToSlotsThatServedGoesEverywhereAtOnce() {
        var machine = RolloutMachine(policy: policy(), targets: environment.targets)
        _ = machine.next()
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in environment.hosts {
            // The warm switch was refused (say the host was busy), but A served before: all at once.
            observed[host.name] = .init(observation: observation(of: host, prepared: [.a, .b], routed: .b, served: [.a, .b]),
                                        routedBefore: .b)
        }
        machine.recordObserved(observed)
        #expect(machine.next() == .route(names, stage: .all))
    }
}
