import Foundation
import MetricsTestKit
import PinwheelCore
import PinwheelFleet
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// The whole controller (poll, rollout, revert, publishing, drift) against in-memory hosts that answer as the host
/// agent does, and a real bare "remote" that people push to. What only real hosts show is in
/// ``ControllerOnARealFleetTests``.
@Suite("Controller")
struct ControllerTests {
    struct World {
        let fleet: InMemoryTestFleet
        let config: ConfigRemote
        let logs: CapturedLogs
        let controller: Controller
        /// What the controller's metrics recorded.
        let metrics: TestMetrics

        var agents: InMemoryFleet { fleet.agents }

        /// The newest status the remote's status branch holds.
        func status(_ environment: String = "fleet") throws -> EnvironmentStatus? {
            try config.status(of: environment)
        }

        func statusMessages() async throws -> [String] {
            try await config.inRemote(["log", "--format=%s", "pinwheel/status"]).split(separator: "\n").map(String.init)
        }

        func pollAndSettle() async {
            await controller.poll()
            await controller.settle()
        }

        func mainTip() async throws -> String {
            try await config.inRemote(["rev-parse", "main"]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func world(hosts: Int = 3, onFailure: String = "halt", maxFailures: Int = 0, drift: String = "heal") async throws -> World {
        let fleet = try InMemoryTestFleet(hosts: hosts)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: \(maxFailures), onFailure: \(onFailure)}
            health: {retries: 40, interval: 250ms}
            drift: \(drift)

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let configuration = ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(50), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test")
        let metrics = TestMetrics()
        let controller = Controller(configuration: configuration, logger: logs.logger(),
                                    metrics: ControllerMetrics(factory: metrics), agents: fleet.agents)
        return World(fleet: fleet, config: config, logs: logs, controller: controller, metrics: metrics)
    }

    /// The execute round trips that switched a host, in order: (host, slot).
    static func switches(_ exchanges: [InMemoryFleet.Exchange]) -> [(String, Slot)] {
        exchanges.compactMap { exchange in
            guard exchange.ok, let slot = exchange.steps.compactMap({ step -> Slot? in
                if case let .route(slot) = step { return slot } else { return nil }
            }).first else { return nil }
            return (exchange.host, slot)
        }
    }

    /// The round trips that failed, leaving out the warm switch the rollout offers every host while observing (its
    /// verify refuses a slot that is not warm, which is no failure).
    static func failures(_ exchanges: [InMemoryFleet.Exchange]) -> [InMemoryFleet.Exchange] {
        exchanges.filter { exchange in
            guard !exchange.ok else { return false }
            if case .verify = exchange.steps.first { return false }
            return true
        }
    }

    @Test func aReleaseIsRolledOutCanaryFirstAndTheStatusNamesItsCommit() async throws {
        let world = try await world()
        await world.pollAndSettle()
        let first = try #require(try world.status())
        #expect(first.result == .converged)
        #expect(first.desired == (try await world.config.head()))
        #expect(first.hosts.values.allSatisfy { $0.serving == .a && $0.healthy })
        #expect(first.hosts.count == 3)

        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        let mark = world.agents.exchanges.count
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.desired == release)
        #expect(status.result == .converged)
        #expect(status.active == .b)
        #expect(status.applied == release)
        #expect(status.pins == ["hello-service==1.1.0"])
        #expect(status.hosts.values.allSatisfy { $0.serving == .b && $0.healthy && $0.slots["B"] == ["hello-service==1.1.0"] })
        let messages = try await world.statusMessages()
        #expect(messages.first == "fleet: converged at \(release.prefix(7)) — slot B, hello-service 1.1.0, 3/3 hosts")
        #expect(world.fleet.serves(["hello-service==1.1.0"]))
        // Every host prepared B before any switched; the canary switched alone, then the others.
        let exchanges = world.agents.exchanges(since: mark)
        let switches = Self.switches(exchanges)
        #expect(switches.map(\.1) == [.b, .b, .b])
        #expect(Set(switches.map(\.0)).count == 3)
        let firstSwitch = try #require(exchanges.firstIndex { $0.ok && $0.steps.contains(.route(.b)) })
        let prepares = exchanges.indices.filter { exchanges[$0].steps.contains(.prepare(.b)) }
        #expect(prepares.count == 3 && prepares.allSatisfy { $0 < firstSwitch })
        // The metrics say the same: two converged rollouts, every host healthy on B, the release's commit applied.
        let converged = [("environment", "fleet"), ("result", "converged")]
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", converged).totalValue == 2)
        #expect(try world.metrics.expectTimer("pinwheel_reconcile_duration_seconds", converged).values.count == 2)
        #expect(try world.metrics.expectGauge("pinwheel_hosts", [("environment", "fleet"), ("slot", "B"), ("healthy", "true")]).lastValue == 3)
        #expect(try world.metrics.expectGauge("pinwheel_hosts", [("environment", "fleet"), ("slot", "A"), ("healthy", "true")]).lastValue == 0)
        #expect(try world.metrics.expectGauge("pinwheel_applied_commit_info", [("environment", "fleet"), ("commit", release)]).lastValue == 1)
        #expect(world.metrics.recorders(label: "pinwheel_applied_commit_info").count == 1, "the earlier commit's series is gone")
        #expect(world.metrics.counterTotal(label: "pinwheel_poll_failures_total") == 0)

        // Nothing new: a poll asks no host anything and commits nothing.
        let before = try await world.statusMessages().count
        let quiet = world.agents.exchanges.count
        await world.pollAndSettle()
        #expect(try await world.statusMessages().count == before)
        #expect(world.agents.exchanges.count == quiet)
    }

    @Test func aRevertSwitchesBackInTheObservingRoundTripBeforeAnyInstall() async throws {
        let world = try await world()
        await world.pollAndSettle()
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()
        let mark = world.agents.exchanges.count

        let revert = try await world.config.revertAndPush()
        await world.pollAndSettle()
        let exchanges = world.agents.exchanges(since: mark)
        // The first round trip with each host verifies the warm slot A and switches to it.
        #expect(exchanges.prefix(3).allSatisfy { $0.steps == [.verify(.a), .route(.a)] && $0.ok }, "\(exchanges)")
        #expect(Set(exchanges.prefix(3).map(\.host)).count == 3)
        #expect(!exchanges.contains { $0.steps.contains(.prepare(.a)) }, "slot A was warm: nothing installed before the switch")
        let firstInstall = exchanges.firstIndex { $0.steps.contains(.prepare(.b)) }
        #expect(firstInstall.map { $0 >= 3 } ?? true, "the idle slot is re-prepared only after every host switched")
        let status = try #require(try world.status())
        #expect(status.desired == revert)
        #expect(status.result == .converged && status.active == .a)
        #expect(world.fleet.serves(["hello-service==1.0.0"]))
    }

    @Test func aBrokenReleaseIsHaltedQuarantinedAndRevertedThroughTheRemote() async throws {
        let world = try await world(onFailure: "revert")
        await world.pollAndSettle()
        try world.fleet.setPins(.b, "hello-service==9.9.9")
        try world.fleet.setActive(.b)
        let broken = try await world.config.commitAndPush("fleet: release hello-service 9.9.9")
        await world.pollAndSettle()

        let halted = try #require(try world.status())
        #expect(halted.result == .halted && halted.desired == broken)
        #expect(halted.quarantined == [broken])
        #expect(halted.hosts.values.allSatisfy { $0.serving == .a })
        let revert = try #require(halted.revert)
        #expect(try await world.mainTip() == revert, "the revert is on the remote's main")
        let log = try await world.config.inRemote(["log", "--format=%an|%s", "main"]).split(separator: "\n")
        #expect(log.first == "Pinwheel|Revert \"fleet: release hello-service 9.9.9\"")
        let revertMessage = try await world.config.inRemote(["log", "-1", "--format=%B", "main"])
        #expect(revertMessage.contains("This reverts commit \(broken)"))
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", [("environment", "fleet"), ("result", "reverted")]).totalValue == 1)
        // Every host prepared 9.9.9 at once (prepare: 20), and its health check failed on each of them.
        let failed = Self.failures(world.agents.exchanges)
        #expect(failed.count == 3 && failed.allSatisfy { $0.code == .health })
        #expect(halted.hosts.values.allSatisfy { $0.reason?.code == FailureCode.health.rawValue })
        let failedSteps = world.metrics.counters(label: "pinwheel_host_step_failures_total")
            .map { "\(Dictionary(uniqueKeysWithValues: $0.dimensions)["step"] ?? "")=\($0.totalValue)" }
        #expect(failedSteps == ["check=3"])
        #expect(Self.switches(world.agents.exchanges).allSatisfy { $0.1 == .a }, "no host ever switched to 9.9.9")

        // The next poll applies the revert: A stays, B's pins go back.
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.result == .converged && status.desired == revert)
        #expect(status.quarantined == [broken], "carried forward")
        #expect(world.fleet.serves(["hello-service==1.0.0"]))
    }

    /// The revert is validated before the branch moves: a release that created the environment is not reverted, since
    /// its revert would remove the environment; nothing is committed to main.
    @Test func aRevertThatWouldRemoveTheEnvironmentIsNotCommitted() async throws {
        let world = try await world(hosts: 1, onFailure: "revert")
        await world.pollAndSettle()
        try world.fleet.addEnvironment("attic", hosts: ["attic-01"])
        try world.fleet.write("Environments/attic/A.txt", "hello-service==9.9.9\n")
        let created = try await world.config.commitAndPush("attic: a new environment, with a broken release")
        await world.pollAndSettle()
        let attic = try #require(try world.status("attic"))
        #expect(attic.result == .halted && attic.desired == created)
        #expect(attic.revert == nil, "no revert was committed")
        #expect(try await world.mainTip() == created, "main is where the person left it")
        #expect(try world.status()?.result == .converged, "fleet is not concerned")
    }

    @Test func anInvalidCommitAppliesNothingUntilTheNextValidOne() async throws {
        let world = try await world(hosts: 2)
        await world.pollAndSettle()
        try world.fleet.setPins(.b, "hello-service>=1.1.0")
        try world.fleet.setActive(.b)
        let invalid = try await world.config.commitAndPush("fleet: a range by mistake")
        let mark = world.agents.exchanges.count
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.result == .invalid)
        #expect(status.desired == invalid)
        #expect(status.errors.contains { $0.contains("Environments/fleet/B.txt:1:1: error:") })
        #expect(world.agents.exchanges(since: mark).isEmpty, "no host was asked anything")
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", [("environment", "fleet"), ("result", "invalid")]).totalValue == 1)

        try world.fleet.setPins(.b, "hello-service==1.1.0")
        let fixed = try await world.config.commitAndPush("fleet: pin it")
        await world.pollAndSettle()
        let after = try #require(try world.status())
        #expect(after.result == .converged && after.desired == fixed)
        #expect(world.fleet.serves(["hello-service==1.1.0"]))
    }

    @Test func theRemoteGoingAwayAndComingBackIsSurvived() async throws {
        let world = try await world(hosts: 1)
        await world.pollAndSettle()
        let away = world.config.remote + ".away"
        try FileManager.default.moveItem(atPath: world.config.remote, toPath: away)
        await world.pollAndSettle()
        var health = await world.controller.health()
        #expect(health.lastError != nil)
        #expect(health.status == "degraded")
        #expect(world.metrics.counterTotal(label: "pinwheel_poll_failures_total") == 1)
        #expect(try world.metrics.expectTimer("pinwheel_poll_duration_seconds").values.count == 2)
        #expect(world.fleet.serves(["hello-service==1.0.0"]), "the hosts keep the last applied state")

        try FileManager.default.moveItem(atPath: away, toPath: world.config.remote)
        try world.fleet.setPins(.b, "hello-service==2.0.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release 2.0.0 while the controller could not see the remote")
        await world.pollAndSettle()
        health = await world.controller.health()
        #expect(health.lastError == nil)
        #expect(health.status == "ok")
        #expect(world.fleet.serves(["hello-service==2.0.0"]))
    }

    /// Environments reconcile on their own tasks: `attic`, whose only host accepts connections and never answers, is
    /// first in order, yet `fleet`'s release is committed while attic's host still hangs.
    @Test func anEnvironmentWithAHangingHostNeverDelaysAnother() async throws {
        let world = try await world()
        await world.pollAndSettle()
        try world.fleet.addEnvironment("attic", hosts: ["attic-01"])
        world.agents.host("attic-01").hang()
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("attic: a new environment; fleet: release hello-service 1.1.0")
        await world.controller.poll()
        try await Self.waitUntil { (try? world.status())??.desired == release }
        #expect(try world.status()?.result == .converged)
        #expect(try world.status("attic") == nil, "attic's host still hangs")

        world.agents.host("attic-01").answerAgain()
        await world.controller.settle()
        let attic = try #require(try world.status("attic"))
        #expect(attic.result == .degraded && attic.desired == release)
        #expect(attic.hosts.isEmpty || attic.hosts["attic-01"]?.error != nil)
        let messages = try await world.statusMessages()
        let atticIndex = try #require(messages.firstIndex { $0.hasPrefix("attic:") })
        let fleetIndex = try #require(messages.firstIndex { $0.hasPrefix("fleet: converged at \(release.prefix(7))") })
        #expect(atticIndex < fleetIndex, "attic's status was committed after fleet's (newest first): \(messages)")
    }

    @Test func anUnreachableHostWithinTheBudgetLeavesTheEnvironmentDegraded() async throws {
        let world = try await world(maxFailures: 1)
        world.fleet.host(2).takeDown()
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.result == .degraded)
        #expect(status.hosts[world.fleet.name(2)]?.error != nil)
        #expect([0, 1].allSatisfy { status.hosts[world.fleet.name($0)]?.serving == .a })
        #expect(world.fleet.serves(["hello-service==1.0.0"], hosts: [0, 1]))
        #expect(world.fleet.host(2).routed == nil, "the host down was never switched")

        // It comes back: the next commit converges every host.
        world.fleet.host(2).bringUp()
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged)
        #expect(world.fleet.serves(["hello-service==1.1.0"]))
    }

    @Test func aFailedCanarySwitchHaltsBeforeTheBatch() async throws {
        let world = try await world(onFailure: "halt", maxFailures: 0)
        await world.pollAndSettle()
        for index in 0..<3 { world.fleet.host(index).fail("route", code: .health) }
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        let mark = world.agents.exchanges.count
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.result == .halted && status.desired == release && status.quarantined == [release])
        let failed = Self.failures(world.agents.exchanges(since: mark))
        #expect(failed.map(\.code) == [.health], "only the canary tried to switch")
        #expect(world.fleet.serves(["hello-service==1.0.0"]), "every host still serves A")
    }

    /// A canary whose own nginx is broken (outside Pinwheel's file) is the host's fault, not the release's: under
    /// `maxFailures: 0` the others still get the release, the status is degraded and names that host and its code.
    @Test func aCanaryWithItsOwnBrokenNginxIsSkippedNotTheRelease() async throws {
        let world = try await world(onFailure: "halt", maxFailures: 0)
        await world.pollAndSettle()
        world.fleet.host(0).fail("route", code: .nginxTest)
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.result == .degraded && status.desired == release && status.quarantined.isEmpty)
        #expect(status.hosts[world.fleet.name(0)]?.reason?.code == FailureCode.nginxTest.rawValue)
        #expect(world.fleet.host(0).routed == .a, "the faulty host keeps serving what it served")
        #expect(world.fleet.host(1).routed == .b && world.fleet.host(2).routed == .b, "the others got the release")
    }

    /// A host whose lock another Pinwheel run holds answers `locked`: its own trouble, so it is skipped and reported
    /// while the other host gets the commit; once free, it gets the next release like any host.
    @Test func aHostHeldByAnotherRunIsSkippedWithLocked() async throws {
        let world = try await world(hosts: 2)
        world.fleet.host(0).setLocked(true)
        await world.pollAndSettle()
        let status = try #require(try world.status())
        #expect(status.result == .degraded)
        #expect(Self.failures(world.agents.exchanges).map(\.code) == [.locked])
        #expect(status.hosts[world.fleet.name(0)]?.reason?.code == FailureCode.locked.rawValue)
        #expect(status.quarantined.isEmpty, "the commit did nothing wrong: nothing to quarantine")
        #expect(world.fleet.host(0).routed == nil && world.fleet.host(1).routed != nil, "only the locked host was skipped")

        world.fleet.host(0).setLocked(false)
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged)
        #expect(world.fleet.serves(["hello-service==1.1.0"]))
    }

    @Test func driftIsHealedByTheNextCheck() async throws {
        let world = try await world(hosts: 2)
        await world.pollAndSettle()
        world.fleet.host(1).stopProcesses(.a)
        await world.controller.checkDrift()
        await world.controller.settle()
        #expect(world.fleet.host(1).slot(.a).running, "healed: the processes run again")
        #expect(try world.status()?.result == .converged)
        #expect(try world.metrics.expectCounter("pinwheel_drift_detected_total", [("environment", "fleet")]).totalValue == 1)
    }

    @Test func driftIsReportedWithoutTouchingTheHosts() async throws {
        let world = try await world(hosts: 2, drift: "report")
        await world.pollAndSettle()
        world.fleet.host(1).stopProcesses(.a)
        let mark = world.agents.exchanges.count
        await world.controller.checkDrift()
        await world.controller.settle()
        let status = try #require(try world.status())
        #expect(status.result == .degraded)
        #expect(status.message.contains(world.fleet.name(1)))
        #expect(world.agents.exchanges(since: mark).allSatisfy { $0.action == "observe" }, "only observed")
        #expect(!world.fleet.host(1).slot(.a).running)
    }

    /// A host that was down during a release never received it: under `drift: report` it still gets the release when
    /// it is back (the next drift check), and is not reported as drift.
    @Test func aHostBehindGetsTheReleaseWhateverTheDriftMode() async throws {
        let world = try await world(hosts: 2, drift: "report")
        await world.pollAndSettle()
        world.fleet.host(1).takeDown()
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()
        #expect(try world.status()?.result == .degraded)
        #expect(world.fleet.host(1).routed == .a)

        world.fleet.host(1).bringUp()
        await world.controller.checkDrift()
        await world.controller.settle()
        #expect(world.fleet.host(1).routed == .b, "the host that was down got the release")
        #expect(try world.status()?.result == .converged)
        #expect((try? world.metrics.expectCounter("pinwheel_drift_detected_total", [("environment", "fleet")]))?.totalValue ?? 0 == 0,
                "being behind is not drift")
    }

    @Test func theRunLoopWakesOnATriggerAndStopsCleanly() async throws {
        let world = try await world(hosts: 1)
        let controller = world.controller
        let loop = Task { await controller.run() }
        try await Self.waitUntil { (try? world.status())??.result == .converged }
        try world.fleet.setActive(.b)
        let flip = try await world.config.commitAndPush("fleet: switch to B")
        controller.trigger("test")
        try await Self.waitUntil { (try? world.status())??.desired == flip }
        #expect(try world.status()?.result == .converged)
        await controller.stop()
        await loop.value
        #expect(await controller.health().status == "ok")
    }

    /// Waits until `condition` holds, at most about ten seconds (a hung controller fails the test, never hangs it).
    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<1000 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the condition never held")
    }
}
