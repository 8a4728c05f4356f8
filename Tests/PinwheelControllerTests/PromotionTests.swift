import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// `promotion: {from: staging, soak: 30m}` on a real loopback fleet and a real bare remote, with an injected clock:
/// staging's statuses are committed to the remote's status branch as another controller would.
@Suite("Promotion from staging")
struct PromotionTests {

    /// Commits a status of `staging` to the remote's status branch, as staging's controller would.
    static func recordStaging(_ config: ConfigRemote, result: EnvironmentStatus.Result, pins: [String], python: String,
                              time: String, healthy: Bool = true) throws {
        let repository = try Repository(openingAt: config.remote)
        let status = EnvironmentStatus(environment: "staging", desired: String(repeating: "5", count: 40), result: result,
                                       message: "staging \(result.rawValue)", time: time, active: .b, pins: pins,
                                       hosts: ["staging-01": .init(serving: .b, slots: [:], healthy: healthy)], python: python)
        try repository.commit(changes: [.write(EnvironmentStatus.path(of: "staging"), Data(try status.yaml().utf8))],
                              onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage,
                              author: Signature(name: "Staging controller", email: "staging@test"))
    }

    @Test func productionWaitsForTheSoakAndRefusesPinsThatHaltedInStaging() async throws {
        let clock = TestClock("2026-11-21T08:00:00Z")
        let fleet = try InMemoryTestFleet(hosts: 2)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 20, interval: 250ms}
            promotion: {from: staging, soak: 30m}

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let controller = Controller(configuration: ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
            controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory], now: { clock.now }),
                                    logger: logs.logger(), agents: fleet.agents)
        func pollAndSettle() async {
            await controller.poll()
            await controller.settle()
        }
        func status() throws -> EnvironmentStatus? { try config.status(of: fleet.environmentName) }
        let python = try fleet.environment().python
        let current = try fleet.environment().slots[.a].pins.map(\.description)

        // Staging ran the current pins yesterday: the first deploy goes through.
        try Self.recordStaging(config, result: .converged, pins: current, python: python, time: "2026-11-20T08:00:00Z")
        await pollAndSettle()
        let first = try #require(try status())
        #expect(first.result == .converged, "\(first.message)")
        #expect(first.python == python)

        // A release staging has not run: production waits, naming what staging has.
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0")
        await pollAndSettle()
        let waiting = try #require(try status())
        #expect(waiting.result == .waiting && waiting.desired == release)
        #expect(waiting.message.hasPrefix("staging has hello-service==1.0.0"), "\(waiting.message)")
        #expect(waiting.message.contains("not hello-service==1.1.0"), "\(waiting.message)")
        #expect(fleet.slot(0) == "A")

        // Staging converges on the same pins at 08:10: production soaks until 08:40, then applies by itself.
        let released = try fleet.environment().slots[.b].pins.map(\.description)
        try Self.recordStaging(config, result: .converged, pins: released, python: python, time: "2026-11-21T08:10:00Z")
        clock.set("2026-11-21T08:20:00Z")
        await pollAndSettle()
        let soaking = try #require(try status())
        #expect(soaking.result == .waiting)
        #expect(soaking.message == "soaking in staging: it has run these pins converged since 2026-11-21T08:10:00Z; promotes at 2026-11-21T08:40:00Z")
        #expect(fleet.slot(0) == "A")
        clock.set("2026-11-21T08:40:00Z")
        await pollAndSettle()
        let promoted = try #require(try status())
        #expect(promoted.result == .converged && promoted.desired == release && promoted.active == .b, "\(promoted.message)")
        #expect(fleet.serves(["hello-service==1.1.0"]))

        // Pins that halted in staging are refused; the hosts keep 1.1.0.
        try fleet.setPins(.a, "hello-service==9.9.9")
        try fleet.setActive(.a)
        let broken = try await config.commitAndPush("fleet: release hello-service 9.9.9")
        try Self.recordStaging(config, result: .halted, pins: ["hello-service==9.9.9"], python: python,
                               time: "2026-11-21T08:50:00Z", healthy: false)
        clock.set("2026-11-21T09:00:00Z")
        await pollAndSettle()
        let refused = try #require(try status())
        #expect(refused.result == .refused && refused.desired == broken)
        #expect(refused.message.hasPrefix("staging halted on these pins (hello-service==9.9.9"), "\(refused.message)")
        #expect(refused.applied == release)
        #expect(fleet.slot(0) == "B")
    }
}
