import Foundation
import MetricsTestKit
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// Notifications from releases on in-memory hosts, received by a real HTTP server on loopback: one target
/// from the policy's `notify:` (URL in the environment), a Slack one whose URL is in a file, and a controller-wide
/// one (`watch --notify`) whose receiver fails twice before it accepts.
@Suite("Notifications of rollouts")
struct NotificationFleetTests {

    /// The controller's configuration for the fleet's config remote, as the other controller suites have it.
    static func configuration(_ fleet: InMemoryTestFleet, _ config: ConfigRemote) -> ControllerConfiguration {
        ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
            controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory])
    }

    func events(_ bodies: [[UInt8]]) throws -> [NotificationEvent] {
        try bodies.map { try JSONDecoder().decode(NotificationEvent.self, from: Data($0)) }
    }

    @Test func releasesAndAHaltAreAnnouncedToEveryTarget() async throws {
        let receiver = try await HookReceiver(failingFirst: ["flaky": 2])
        defer { receiver.stop() }
        let fleet = try InMemoryTestFleet(hosts: 2)
        let slackFile = "\(fleet.directory)/slack-url"
        try "\(receiver.url("slack"))\n".write(toFile: slackFile, atomically: false, encoding: .utf8)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: revert}
            health: {retries: 40, interval: 250ms}
            notify:
              - type: webhook
                url: {env: PINWHEEL_HOOK_URL}
              - type: slack
                url: {file: \(slackFile)}
                events: [converged, halted, reverted]

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        var configuration = Self.configuration(fleet, config)
        configuration.notify = [try NotifyTarget(flag: "webhook=env:PINWHEEL_FLAKY_URL")]
        configuration.statusPage = "http://127.0.0.1:9420"
        let metrics = TestMetrics()
        let environment = ["PINWHEEL_HOOK_URL": receiver.url("webhook"), "PINWHEEL_FLAKY_URL": receiver.url("flaky")]
        let notifier = Notifier(logger: logs.logger(), metrics: ControllerMetrics(factory: metrics),
                                retry: RetryPolicy(attempts: 5, initial: .milliseconds(100), maximum: .seconds(1)),
                                readURL: { try NotificationURL.read($0, environment: environment) })
        let controller = Controller(configuration: configuration, logger: logs.logger(),
                                    metrics: ControllerMetrics(factory: metrics), notifier: notifier, agents: fleet.agents)
        let initial = try await config.head()
        await controller.poll()
        await controller.settle()

        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0", author: "Alice")
        await controller.poll()
        await controller.settle()

        try fleet.setPins(.a, "hello-service==9.9.9")
        try fleet.setActive(.a)
        let broken = try await config.commitAndPush("fleet: release hello-service 9.9.9", author: "Bob")
        await controller.poll()
        await controller.settle()
        // The next poll applies the revert the controller committed.
        await controller.poll()
        await controller.settle()
        #expect(await notifier.settle(timeout: .seconds(30)))

        let received = try events(receiver.accepted("webhook"))
        #expect(received.prefix(6).map(\.event) == [.started, .converged, .started, .converged, .started, .reverted])
        #expect(received.prefix(6).map(\.commit) == [initial, initial, release, release, broken, broken])
        // The revert commit may rebuild the idle slot the failed release left behind: a rollout of its own.
        let afterRevert = received.dropFirst(6)
        #expect(afterRevert.map(\.event) == [] || afterRevert.map(\.event) == [.started, .converged])
        #expect(afterRevert.allSatisfy { $0.commit == received[5].revert })
        try #require(received.count >= 6)
        let started = received[2]
        #expect(started.title == "fleet: rolling out \(release.prefix(7)) to 2 of 2 hosts: fleet: release hello-service 1.1.0")
        #expect(started.author?.name == "Alice")
        #expect(started.summary == "fleet: release hello-service 1.1.0")
        #expect(started.hosts.map(\.name) == [fleet.name(0), fleet.name(1)])
        #expect(started.link == "http://127.0.0.1:9420/#fleet")
        let converged = received[3]
        #expect(converged.result == "converged")
        #expect(converged.title == "fleet: converged at \(release.prefix(7)) — slot B, hello-service 1.1.0, 2/2 hosts")
        #expect(converged.hosts.allSatisfy { $0.serving == "B" && $0.healthy == true && $0.pins == ["hello-service==1.1.0"] })
        let reverted = received[5]
        #expect(reverted.author?.name == "Bob")
        #expect(reverted.result == "halted")
        #expect(reverted.revert?.count == 40)
        #expect(!reverted.message.isEmpty)
        #expect(reverted.hosts.allSatisfy { $0.serving == "B" }, "the hosts kept serving the release before")

        // The receiver that failed twice got every event once, in order; the two failures were retried.
        let flaky = try events(receiver.accepted("flaky"))
        #expect(flaky.map(\.event) == received.map(\.event))
        #expect(flaky.map(\.commit) == received.map(\.commit))
        #expect(receiver.requests("flaky") == flaky.count + 2)
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "retried"), ("type", "webhook")]).totalValue == 2)
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "delivered"), ("type", "webhook")]).totalValue == Int64(received.count + flaky.count))

        // Slack gets what it asked for, in its own format.
        let slack = try receiver.accepted("slack").map { try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]) }
        let texts = slack.compactMap { $0["text"] as? String }
        #expect(texts.count == 3 + afterRevert.filter { $0.event == .converged }.count)
        #expect(texts.first?.hasPrefix("fleet: converged — fleet: converged at \(initial.prefix(7))") == true)
        try #require(texts.count >= 3)
        #expect(texts[2].hasPrefix("fleet: reverted — fleet: halted at \(broken.prefix(7))") == true)
        #expect(slack.allSatisfy { ($0["blocks"] as? [Any])?.count == 2 })
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "delivered"), ("type", "slack")]).totalValue == Int64(texts.count))

        // The URLs' secret parts (their paths) are never logged.
        let receivers = logs.all.compactMap { $0.metadata["receiver"] }
        #expect(logs.all.filter { $0.level >= .warning && $0.metadata["receiver"] != nil }.count == 2, "each retry names its receiver")
        #expect(receivers.allSatisfy { $0 == "http://127.0.0.1:\(receiver.port)" }, "by its origin only")
        #expect(!logs.all.contains { "\($0.message) \($0.metadata)".contains("/hook/") })

        // Nothing new: nothing more is sent.
        await controller.poll()
        await controller.settle()
        #expect(await notifier.settle(timeout: .seconds(10)))
        #expect(receiver.accepted("webhook").count == received.count)
    }

    /// Commits held back (a freeze, rewritten history) and drift are announced once each, however many polls see them.
    @Test func heldBackCommitsAndDriftAreAnnouncedOnce() async throws {
        let receiver = try await HookReceiver()
        defer { receiver.stop() }
        let fleet = try InMemoryTestFleet(hosts: 2)
        let policy = """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: report
            notify:
              - type: webhook
                url: {env: PINWHEEL_HOOK_URL}

            """
        try fleet.write("Policies/local.yaml", policy)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let configuration = Self.configuration(fleet, config)
        let url = receiver.url("webhook")
        let notifier = Notifier(logger: logs.logger(), readURL: { try NotificationURL.read($0, environment: ["PINWHEEL_HOOK_URL": url]) })
        let controller = Controller(configuration: configuration, logger: logs.logger(), notifier: notifier, agents: fleet.agents)
        func pollTwice() async {
            for _ in 0..<2 {
                await controller.poll()
                await controller.settle()
            }
        }
        let initial = try await config.head()
        await pollTwice()

        // A freeze holds the switch to B back (B is the warm idle slot: a rollback, held too with `rollbacks: windows`):
        // waiting, announced once over several polls.
        try fleet.write("Policies/local.yaml", policy + "freeze: {reason: \"audit\"}\nrollbacks: windows\n")
        try fleet.setActive(.b)
        let frozen = try await config.commitAndPush("fleet: switch to B during the audit")
        await pollTwice()
        // The freeze lifted: it rolls out.
        try fleet.write("Policies/local.yaml", policy)
        let lifted = try await config.commitAndPush("fleet: the audit is over")
        await pollTwice()

        // Someone rewrites main back before the switch: refused, announced once.
        try await config.inWork(["reset", "-q", "--hard", initial])
        try fleet.write("NOTES.md", "rewritten\n")
        try await config.inWork(["add", "-A"])
        try await config.inWork(["commit", "-qm", "fleet: notes, force-pushed"])
        try await config.inWork(["push", "-q", "--force", "origin", "main"])
        let rewritten = try await config.head()
        await pollTwice()

        // A host goes down: the drift check reports it, once.
        fleet.host(1).takeDown()
        await controller.checkDrift()
        await controller.checkDrift()
        fleet.host(1).bringUp()
        #expect(await notifier.settle(timeout: .seconds(30)))

        let received = try events(receiver.accepted("webhook"))
        #expect(received.map(\.event) == [.started, .converged, .waiting, .started, .converged, .refused, .drift])
        #expect(received.map(\.commit) == [initial, initial, frozen, lifted, lifted, rewritten, lifted])
        try #require(received.count == 7)
        #expect(received[2].result == "waiting" && received[2].message == "frozen: audit")
        #expect(received[5].result == "refused" && received[5].message.hasPrefix("history rewritten: \(rewritten)"))
        #expect(received[6].hosts.map(\.name) == [fleet.name(1)])
        #expect(received[6].hosts.first?.error?.isEmpty == false)
        #expect(received[6].title.hasPrefix("fleet: drift on \(fleet.name(1))"))
    }

    /// A rollout that ends with a failure the policy tolerates says `degraded`, with the host and why.
    @Test func aToleratedFailureIsAnnouncedAsDegraded() async throws {
        let receiver = try await HookReceiver()
        defer { receiver.stop() }
        let fleet = try InMemoryTestFleet(hosts: 2)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 1, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            notify:
              - type: webhook
                url: {env: PINWHEEL_HOOK_URL}
                events: [degraded]

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let url = receiver.url("webhook")
        let notifier = Notifier(logger: CapturedLogs().logger(),
                                readURL: { try NotificationURL.read($0, environment: ["PINWHEEL_HOOK_URL": url]) })
        let controller = Controller(configuration: Self.configuration(fleet, config), logger: CapturedLogs().logger(),
                                    notifier: notifier, agents: fleet.agents)
        fleet.host(1).takeDown()
        await controller.poll()
        await controller.settle()
        #expect(await notifier.settle(timeout: .seconds(30)))
        let received = try events(receiver.accepted("webhook"))
        #expect(received.map(\.event) == [.degraded], "only the kind this target asked for")
        let degraded = try #require(received.first)
        #expect(degraded.result == "degraded")
        #expect(degraded.hosts.first { $0.name == fleet.name(0) }?.healthy == true)
        #expect(degraded.hosts.first { $0.name == fleet.name(1) }?.error?.isEmpty == false)
    }
}
