import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import MetricsTestKit
import PinwheelCore
import PinwheelTestSupport
import PinwheelWebhooks
import ServiceLifecycle
import Testing
@testable import PinwheelController

/// A push webhook, not a poll, sees the revert that preempts a paced rollout: the controller's loop polls once an hour,
/// the control server wakes it as `watch` wires it, and the interrupted release is recorded `superseded` while the
/// revert is applied. On in-memory hosts, with a real control server on loopback.
@Suite("Controller preemption by webhook")
struct WebhookPreemptionTests {
    static let secret = "a webhook secret for this test only"

    /// POSTs a generic push with the bearer token; the delivery ID differs every time, as a git host's does.
    static func push(port: Int, commit: String) async throws -> Int {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/hooks/generic")), timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("Bearer \(secret)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(UUID().uuidString, forHTTPHeaderField: "X-Request-Id")
        request.httpBody = Data(#"{"ref":"refs/heads/main","after":"\#(commit)"}"#.utf8)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (_, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    @Test func aRevertSeenByAPushWebhookPreemptsThePacedRollout() async throws {
        let fleet = try InMemoryTestFleet(hosts: 3)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        // An hour between polls: within the test, only a webhook makes the controller look at the branch again.
        let configuration = ControllerConfiguration(
            repository: config.remote, interval: .seconds(3600), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test")
        let controller = Controller(configuration: configuration, logger: logs.logger(),
                                    metrics: ControllerMetrics(factory: TestMetrics()), agents: fleet.agents)
        let server = ControlServer(address: try ControlAddress(parsing: "127.0.0.1:0"), secret: SecretBytes(Self.secret),
                                   logger: logs.logger(), onPush: { event in controller.trigger(event.reason) },
                                   health: { HealthReport(status: "ok") })
        let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [], logger: logs.logger()))
        let serving = Task { try await group.run() }
        let loop = Task { await controller.run() }

        var failure: (any Error)?
        do {
            try await Self.revertDuringThePause(port: try await server.listeningPort(), fleet: fleet, config: config, logs: logs,
                                                controller: controller)
        } catch {
            failure = error
        }
        await controller.stop()
        await loop.value
        await group.triggerGracefulShutdown()
        try await serving.value
        if let failure { throw failure }
    }

    /// The scenario, while the loop and the control server run: a paced release, then a revert during its pause, each
    /// announced by a push webhook.
    static func revertDuringThePause(port: Int, fleet: InMemoryTestFleet, config: ConfigRemote, logs: CapturedLogs,
                                     controller: Controller) async throws {
        // The loop's first poll applies the initial commit.
        try await ControllerTests.waitUntil { (try? config.status(of: "fleet"))??.result == .converged }

        try fleet.write("Policies/local.yaml", PreemptionControllerTests.pacedPolicy(pause: "10m"))
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        // (The end of the first rollout wakes the loop once more, which may see this commit before the webhook does;
        // nothing wakes it during the release's pause but the webhook below.)
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0, one host at a time")
        #expect(try await Self.push(port: port, commit: release) == 202)
        // The canary switches, then the rollout waits out its ten-minute pause.
        try await ControllerTests.waitUntil { fleet.slot(0) == "B" }

        let revert = try await config.revertAndPush()
        #expect(try await Self.push(port: port, commit: revert) == 202)
        try await ControllerTests.waitUntil { (try? config.status(of: "fleet"))??.desired == revert }
        await controller.settle()

        #expect(fleet.serves(["hello-service==1.0.0"]))
        #expect((0..<3).allSatisfy { fleet.slot($0) == "A" })
        let switchedToB = ControllerTests.switches(fleet.agents.exchanges).filter { $0.1 == .b }.map(\.0)
        #expect(switchedToB == [fleet.name(0)], "only the canary switched to the release")
        #expect(try config.status(of: "fleet")?.result == .converged)
        let commits = try await config.inRemote(["log", "--format=%H", "pinwheel/status"]).split(separator: "\n")
        var statuses: [EnvironmentStatus] = []
        for commit in commits {
            statuses.append(try EnvironmentStatus.parse(try await config.inRemote(["show", "\(commit):Environments/fleet/status.yaml"])))
        }
        let superseded = try #require(statuses.first { $0.desired == release })
        #expect(superseded.result == .superseded)
        #expect(superseded.superseded?.by == revert)
        #expect(superseded.superseded?.switched == [fleet.name(0)])
        #expect(superseded.superseded?.untouched == [fleet.name(1), fleet.name(2)])
        #expect(!logs.events(.webhookAccepted).isEmpty)
        #expect(logs.events(.rolloutPreempted).count == 1)
    }
}
