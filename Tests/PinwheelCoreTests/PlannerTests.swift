import Testing
@testable import PinwheelCore

@Suite("Planner")
struct PlannerTests {
    let environment: Environment
    let host: FleetHost

    init() throws {
        environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        host = environment.hosts[0]
    }

    /// What a host reports when `slots` are prepared as the environment says, running and healthy, routed to `routed`.
    func observation(prepared slots: [Slot], of environment: Environment? = nil, routed: Slot?, healthy: Bool = true) -> HostObservation {
        let environment = environment ?? self.environment
        var observation = HostObservation()
        for slot in slots {
            let spec = environment.slotSpec(slot, on: host)
            var processes: [String: [String]] = [:]
            for program in spec.programs {
                processes[program.supervisorName] = Array(repeating: "RUNNING", count: program.processes)
            }
            observation.slots[slot] = SlotObservation(
                manifest: SlotManifest(fingerprint: environment.fingerprint(slot, on: host), pins: []), processes: processes, healthy: healthy)
        }
        observation.routed = routed
        observation.routedFingerprint = routed.map { environment.fingerprint($0, on: host) }
        return observation
    }

    func with(_ edit: (inout [String: String]) -> Void) throws -> Environment {
        var files = Fixture.files
        edit(&files)
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func aFreshHostGetsBothSlotsActiveFirst() {
        let plan = Planner.plan(environment, host: host, observed: HostObservation())
        #expect(plan.activate == [.prepare(.a), .start(.a), .check(.a)])
        #expect(plan.route == .route(.a))
        #expect(plan.idle == [.prepare(.b), .start(.b), .check(.b)])
        #expect(plan.steps.map(\.description) == ["prepare A", "start A", "check A", "switch to A", "prepare B", "start B", "check B"])
        #expect(plan.installs)
    }

    @Test func aMatchingHostNeedsNothing() {
        let plan = Planner.plan(environment, host: host, observed: observation(prepared: [.a, .b], routed: .a))
        #expect(plan.isEmpty)
        #expect(!plan.installs)
    }

    @Test func aReleasePreparesTheIdleSlotThenSwitches() throws {
        let before = observation(prepared: [.a, .b], routed: .a)
        let release = try with { files in
            files[Fixture.slotBPath] = "hello-service==2.0.0\nclick==8.1.7\n"
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: B")
        }
        let plan = Planner.plan(release, host: host, observed: before)
        #expect(plan.activate == [.prepare(.b), .start(.b), .check(.b)])
        #expect(plan.route == .route(.b))
        #expect(plan.idle.isEmpty)
    }

    @Test func rebuildingTheSlotThatServesIsLeftToTheSwitch() throws {
        // The active slot's pins edited in place (a program setting changes its fingerprint the same way).
        let edited = try with { files in files[Fixture.slotAPath] = "hello-service==1.0.1\nclick==8.1.7\n" }
        let plan = Planner.plan(edited, host: host, observed: observation(prepared: [.a, .b], routed: .a))
        #expect(plan.activate == [.prepare(.a), .start(.a), .check(.a)])
        #expect(plan.rebuildsServingSlot)
        #expect(plan.prepareSteps.isEmpty)
        #expect(plan.switchSteps == [.prepare(.a), .start(.a), .check(.a), .route(.a), .check(.a)])
        // Not serving yet (nginx routes elsewhere, or nowhere): prepared first, as a release is.
        for routed in [Slot.b, nil] {
            let elsewhere = Planner.plan(edited, host: host, observed: observation(prepared: [.a, .b], routed: routed))
            #expect(!elsewhere.rebuildsServingSlot && elsewhere.prepareSteps == elsewhere.activate)
        }
        // A beforeSwitch hook runs from the new build before any host switches: every host is prepared first.
        let hooked = try with { files in
            files[Fixture.slotAPath] = "hello-service==1.0.1\nclick==8.1.7\n"
            files[Fixture.environmentPath] = Fixture.environment + "hooks:\n  beforeSwitch: django-admin migrate\n"
        }
        let prepared = Planner.plan(hooked, host: host, observed: observation(prepared: [.a, .b], routed: .a))
        #expect(!prepared.rebuildsServingSlot && prepared.prepareSteps == prepared.activate)
        #expect(prepared.switchSteps == [.route(.a), .check(.a)])
        // Stopped processes are started wherever they are: nothing is rebuilt.
        let stopped = Planner.plan(environment, host: host, observed: observation(prepared: [.a, .b], routed: .a, healthy: false))
        #expect(!stopped.rebuildsServingSlot)
    }

    @Test func switchingBackToAWarmSlotInstallsNothing() throws {
        let flipped = try with { files in
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: B")
        }
        let plan = Planner.plan(flipped, host: host, observed: observation(prepared: [.a, .b], routed: .a))
        #expect(plan.activate.isEmpty)
        #expect(plan.route == .route(.b))
        #expect(plan.idle.isEmpty)
        #expect(!plan.installs)
    }

    @Test func aRevertSwitchesFirstAndPreparesTheIdleSlotAfter() throws {
        // The release: B got 2.0.0 and became active. Its revert puts A back and B's pins back.
        let released = try with { files in
            files[Fixture.slotBPath] = "hello-service==2.0.0\nclick==8.1.7\n"
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: B")
        }
        var observed = observation(prepared: [.a, .b], of: released, routed: .b)
        observed.slots.a = observation(prepared: [.a], routed: nil).slots.a
        let plan = Planner.plan(environment, host: host, observed: observed)
        #expect(plan.activate.isEmpty, "A is warm: no install before the switch")
        #expect(plan.route == .route(.a))
        #expect(plan.idle == [.prepare(.b), .start(.b), .check(.b)])
    }

    @Test func aStoppedSlotIsStartedNotRebuilt() {
        var observed = observation(prepared: [.a, .b], routed: .a)
        observed.slots.b.processes["hello-web-B"] = ["STOPPED", "STOPPED"]
        let plan = Planner.plan(environment, host: host, observed: observed)
        #expect(plan.activate.isEmpty && plan.route == nil)
        #expect(plan.idle == [.start(.b), .check(.b)])
    }

    @Test func anUnhealthyActiveSlotIsRestartedAndCheckedBeforeRouting() {
        var observed = observation(prepared: [.a, .b], routed: .a)
        observed.slots.a.healthy = false
        let plan = Planner.plan(environment, host: host, observed: observed)
        #expect(plan.activate == [.start(.a), .check(.a)])
        #expect(plan.route == .route(.a))
    }

    @Test func nginxPointingElsewhereIsSwitched() {
        let plan = Planner.plan(environment, host: host, observed: observation(prepared: [.a, .b], routed: nil))
        #expect(plan.activate.isEmpty)
        #expect(plan.route == .route(.a))
    }

    @Test func changedPortsRewriteTheUpstream() throws {
        let moved = try with { files in
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "port: {A: 8100, B: 8200}", with: "port: {A: 8300, B: 8400}")
        }
        let plan = Planner.plan(moved, host: host, observed: observation(prepared: [.a, .b], routed: .a))
        #expect(plan.activate == [.prepare(.a), .start(.a), .check(.a)])
        #expect(plan.route == .route(.a))
        #expect(plan.idle == [.prepare(.b), .start(.b), .check(.b)])
    }

    @Test func fingerprintsFollowWhatDefinesASlot() throws {
        let base = environment.fingerprint(.a, on: host)
        #expect(base == environment.fingerprint(.a, on: host))
        #expect(base != environment.fingerprint(.b, on: host))
        let otherPolicy = try with { files in files[Fixture.policyPath] = "drift: report\n" }
        #expect(otherPolicy.fingerprint(.a, on: host) == base, "the policy does not change what a slot is")
        let otherCommand = try with { files in
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "command: hello-worker", with: "command: hello-worker --fast")
        }
        #expect(otherCommand.fingerprint(.a, on: host) != base)
        let otherPython = try with { files in
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "python: /usr/bin/python3", with: "python: /usr/bin/python3.11")
        }
        #expect(otherPython.fingerprint(.a, on: host) != base)
        #expect(environment.fingerprint(.a, on: environment.hosts[1]) == base, "same ports, same slot")
    }

    @Test func isRunningNeedsEveryProcess() {
        let spec = environment.slotSpec(.a, on: host)
        var slot = SlotObservation(processes: ["hello-web-A": ["RUNNING", "RUNNING"], "hello-worker-A": ["RUNNING"]])
        #expect(slot.isRunning(spec))
        slot.processes["hello-web-A"] = ["RUNNING"]
        #expect(!slot.isRunning(spec))
        slot.processes["hello-web-A"] = ["RUNNING", "BACKOFF"]
        #expect(!slot.isRunning(spec))
        slot.processes["hello-worker-A"] = nil
        #expect(!slot.isRunning(spec))
    }
}

extension Planner {
    /// The plan of `host` resolved from `environment`, as the engine resolves it.
    static func plan(_ environment: Environment, host: FleetHost, observed: HostObservation) -> HostPlan {
        plan(environment.target(for: host), observed: observed)
    }
}

extension Environment {
    func fingerprint(_ slot: Slot, on host: FleetHost) -> String {
        target(for: host).slots[slot].fingerprint
    }
}
