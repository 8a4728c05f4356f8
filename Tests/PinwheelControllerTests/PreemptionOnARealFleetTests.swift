import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// Preemption on a real loopback fleet (sshd, supervisord, nginx, the sample service): a release one host per batch
/// with a ten-minute pause, and a revert pushed once the canary serves it. The controller stops the release in its
/// pause, the canary's nginx goes back to the warm slot A in the revert's observing round trip, the other hosts
/// never serve the release, and the release is recorded `superseded`. How fast is the benchmark's
/// (`Benchmarks/preempt`), not this test's.
@Suite("Preemption on a real fleet", .serialized, .tags(.fleet))
struct PreemptionOnARealFleetTests {
    static let first = 105

    @Test func aRevertPushedDuringAPacedReleaseStopsItAndEveryHostServesThePreviousVersion() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let configuration = ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
            controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory])
        let controller = Controller(configuration: configuration, logger: logs.logger())
        await controller.poll()
        await controller.settle()
        #expect(try config.status(of: fleet.environmentName)?.result == .converged)

        // The release, one host per batch with a pause no test waits out.
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: 10m, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0, one host at a time")
        await controller.poll()
        let canary = try await fleet.waitUntilServing("hello-service 1.1.0", hosts: [0], timeout: .seconds(300))
        try #require(canary.allSatisfy { $0.hasPrefix("hello-service 1.1.0") }, "the canary never served the release")

        let revert = try await config.revertAndPush()
        await controller.poll()
        await controller.settle()

        let bodies = try await fleet.waitUntilServing("hello-service 1.0.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.0.0") }, "\(bodies)")
        for index in 0..<fleet.hosts {
            #expect(try await fleet.get(index).slot == "A")
        }
        let status = try #require(try config.status(of: fleet.environmentName))
        #expect(status.desired == revert && status.result == .converged && status.active == .a)

        let previous = try await config.inRemote(["show", "pinwheel/status~1:\(EnvironmentStatus.path(of: fleet.environmentName))"])
        let superseded = try EnvironmentStatus.parse(previous)
        #expect(superseded.desired == release)
        #expect(superseded.result == .superseded)
        #expect(superseded.superseded?.by == revert)
        #expect(superseded.superseded?.switched == [fleet.name(0)])
        #expect(superseded.superseded?.untouched == [fleet.name(1), fleet.name(2)])
        #expect(superseded.quarantined.isEmpty)
        #expect(!logs.events(.rolloutPreempted).isEmpty)
    }
}
