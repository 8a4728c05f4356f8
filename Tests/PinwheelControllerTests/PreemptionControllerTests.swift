import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// A newer commit stops a rollout under way at its next safe point, on in-memory hosts: a revert pushed while a
/// release one host at a time waits out its pause sends the canary back in the observing round trip and never
/// touches the hosts not yet switched; the release is recorded `superseded`. A commit admission would not apply
/// lets the rollout finish.
@Suite("Controller preemption")
struct PreemptionControllerTests {
    /// One host per batch, a pause far longer than any test: only preemption ends it early.
    static func pacedPolicy(pause: String) -> String {
        """
        rollout: {prepare: 20, canary: 1, batch: 1, pause: \(pause), maxFailures: 0, onFailure: halt}
        health: {retries: 40, interval: 250ms}
        drift: heal

        """
    }

    /// The statuses on the status branch, newest first.
    static func statuses(_ world: ControllerTests.World) async throws -> [EnvironmentStatus] {
        let commits = try await world.config.inRemote(["log", "--format=%H", "pinwheel/status"]).split(separator: "\n")
        var statuses: [EnvironmentStatus] = []
        for commit in commits {
            statuses.append(try EnvironmentStatus.parse(try await world.config.inRemote(["show", "\(commit):Environments/fleet/status.yaml"])))
        }
        return statuses
    }

    @Test func aRevertDuringAPacedRolloutPreemptsItAndTheCanaryGoesBackInTheObservingRoundTrip() async throws {
        let world = try await ControllerTests().world(hosts: 4)
        await world.pollAndSettle()
        try world.fleet.write("Policies/local.yaml", Self.pacedPolicy(pause: "10m"))
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0, one host at a time")
        await world.controller.poll()
        // The canary switches, then the rollout waits out its ten-minute pause.
        try await ControllerTests.waitUntil { world.fleet.slot(0) == "B" }
        let mark = world.agents.exchanges.count

        let revert = try await world.config.revertAndPush()
        await world.pollAndSettle()

        // Every host serves the previous version from slot A; none but the canary ever served B.
        #expect(world.fleet.serves(["hello-service==1.0.0"]))
        #expect((0..<4).allSatisfy { world.fleet.slot($0) == "A" })
        let switchedToB = ControllerTests.switches(world.agents.exchanges).filter { $0.1 == .b }.map(\.0)
        #expect(switchedToB == ["web-01"], "only the canary switched to the release")
        // The canary went back in the revert's first round trip with it: the observing one, verify and switch.
        let back = try #require(world.agents.exchanges(since: mark).first { $0.host == "web-01" })
        #expect(back.ok && back.steps == [.verify(.a), .route(.a)], "\(back.steps)")
        #expect(!world.agents.exchanges(since: mark).contains { $0.steps.contains(.route(.b)) })

        // The revert converged; the release before it is recorded superseded by the revert, with what it did.
        let statuses = try await Self.statuses(world)
        let last = try #require(statuses.first)
        #expect(last.desired == revert && last.result == .converged)
        let superseded = try #require(statuses.first { $0.desired == release })
        #expect(superseded.result == .superseded)
        #expect(superseded.superseded?.by == revert)
        #expect(superseded.superseded?.switched == ["web-01"])
        #expect(superseded.superseded?.untouched == ["web-02", "web-03", "web-04"])
        #expect(["pause", "canary"].contains(superseded.superseded?.stage ?? ""), "\(superseded.superseded?.stage ?? "nil")")
        #expect(superseded.quarantined.isEmpty, "a superseded commit did not fail: never quarantined")
        #expect(superseded.revert == nil)
        #expect(superseded.message.contains("superseded by \(revert.prefix(7))"), "\(superseded.message)")
        // Never a halted status or a revert by the controller: it stopped, it did not fail.
        #expect(!statuses.contains { $0.result == .halted })
        #expect(try await world.mainTip() == revert)
        let messages = try await world.statusMessages()
        #expect(messages.contains { $0.hasPrefix("fleet: superseded at \(release.prefix(7))") }, "\(messages)")
        #expect(!world.logs.events(.rolloutPreempted).isEmpty)
        let superseded1 = [("environment", "fleet"), ("result", "superseded")]
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", superseded1).totalValue == 1)
    }

    @Test func aCommitAdmissionWouldNotApplyLetsTheRolloutFinish() async throws {
        let world = try await ControllerTests().world(hosts: 3)
        await world.pollAndSettle()
        try world.fleet.write("Policies/local.yaml", Self.pacedPolicy(pause: "1s"))
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0, one host at a time")
        await world.controller.poll()
        try await ControllerTests.waitUntil { world.fleet.slot(0) == "B" }

        // An invalid config during the pause: nothing would be applied, so nothing stops.
        try world.fleet.setPins(.a, "hello-service==not a version")
        let invalid = try await world.config.commitAndPush("fleet: a typo")
        await world.controller.poll()
        await world.controller.settle()

        #expect(world.fleet.serves(["hello-service==1.1.0"]), "the release reached every host")
        let statuses = try await Self.statuses(world)
        let released = try #require(statuses.first { $0.desired == release })
        #expect(released.result == .converged)
        #expect(!statuses.contains { $0.result == .superseded })
        #expect(!world.logs.events(.rolloutKept).isEmpty)
        // Once the rollout ended, the invalid commit is looked at: recorded invalid, nothing applied.
        await world.pollAndSettle()
        #expect(try world.status()?.desired == invalid)
        #expect(try world.status()?.result == .invalid)
    }

    @Test func aSupersededRolloutIsNotifiedToTheEnvironmentsTargets() async throws {
        let receiver = try await HookReceiver(failingFirst: [:])
        defer { receiver.stop() }
        let fleet = try InMemoryTestFleet(hosts: 3)
        try fleet.write("Policies/local.yaml", InMemoryTestFleet.defaultPolicy + HookReceiver.policyWebhook)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let notifier = receiver.notifier(logs: logs)
        let controller = Controller(configuration: NotificationFleetTests.configuration(fleet, config), logger: logs.logger(),
                                    notifier: notifier, agents: fleet.agents)
        await controller.poll()
        await controller.settle()
        try fleet.write("Policies/local.yaml", Self.pacedPolicy(pause: "10m") + HookReceiver.policyWebhook)
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0, one host at a time")
        await controller.poll()
        try await ControllerTests.waitUntil { fleet.slot(0) == "B" }
        let revert = try await config.revertAndPush()
        await controller.poll()
        await controller.settle()
        #expect(await notifier.settle(timeout: .seconds(30)))

        let received = try receiver.events()
        let superseded = try #require(received.first { $0.event == .superseded }, "\(received.map(\.event))")
        #expect(superseded.commit == release)
        #expect(superseded.result == "superseded")
        #expect(superseded.supersededBy == revert)
        #expect(superseded.switched == [fleet.name(0)])
        #expect(superseded.title.hasSuffix("superseded by \(revert.prefix(7))"), "\(superseded.title)")
        #expect(!received.contains { $0.event == .halted || $0.event == .reverted })
        // The revert's own rollout follows and is announced as any other.
        #expect(received.last?.event == .converged && received.last?.commit == revert)
    }

    @Test func theNotificationOfASupersededRolloutNamesTheNewerCommitAndTheSwitchedHosts() throws {
        var status = EnvironmentStatus(environment: "fleet", desired: String(repeating: "b", count: 40), result: .superseded,
                                       message: "superseded by ccccccc", time: "2026-12-07T03:00:00Z", active: .b,
                                       pins: ["hello-service==1.1.0"], hosts: [:])
        status.superseded = .init(by: String(repeating: "c", count: 40), stage: "pause", switched: ["web-01"], untouched: ["web-02"])
        let event = NotificationEvent(.superseded, status: status, time: "2026-12-07T03:00:01Z")
        #expect(event.result == "superseded")
        #expect(event.supersededBy == String(repeating: "c", count: 40))
        #expect(event.switched == ["web-01"])
        #expect(event.title.hasSuffix("superseded by ccccccc"))
        let body = String(decoding: event.webhookBody(), as: UTF8.self)
        #expect(body.contains(#""event":"superseded""#) && body.contains(#""supersededBy":"ccccccc"#))
    }
}
