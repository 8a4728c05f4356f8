import Foundation
import MetricsTestKit
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// The controller end to end on a real loopback fleet and a real bare "remote" that people push to: what only real
/// hosts show (nginx serving the new release, a failed health check of a real service, the warm switch back). Every
/// other controller behaviour runs on in-memory hosts (``ControllerTests``).
@Suite("Controller on a real fleet", .serialized, .tags(.fleet))
struct ControllerOnARealFleetTests {
    static let first = 141

    struct World {
        let fleet: TestFleet
        let config: ConfigRemote
        let logs: CapturedLogs
        let controller: Controller
        /// What the controller's metrics recorded.
        let metrics: TestMetrics

        /// The newest status the remote's status branch holds.
        func status() throws -> EnvironmentStatus? {
            try config.status(of: fleet.environmentName)
        }

        func bodies() async throws -> [String] {
            var bodies: [String] = []
            for index in 0..<fleet.hosts { bodies.append(try await fleet.get(index).body) }
            return bodies
        }
    }

    func world(hosts: Int = 3, onFailure: String = "halt") async throws -> World {
        let fleet = try await TestFleet.start(hosts: hosts, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: \(onFailure)}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let configuration = ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
            controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory])
        let metrics = TestMetrics()
        let controller = Controller(configuration: configuration, logger: logs.logger(),
                                    metrics: ControllerMetrics(factory: metrics))
        return World(fleet: fleet, config: config, logs: logs, controller: controller, metrics: metrics)
    }

    /// A release is served by every host's nginx, and a revert switches every host back to the warm slot.
    @Test func aReleaseAndItsRevertAreServedByTheHosts() async throws {
        let world = try await world()
        await world.controller.poll()
        await world.controller.settle()
        #expect(try world.status()?.result == .converged)

        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.controller.poll()
        await world.controller.settle()
        let status = try #require(try world.status())
        #expect(status.desired == release && status.result == .converged && status.active == .b)
        #expect(status.hosts.values.allSatisfy { $0.serving == .b && $0.healthy && $0.slots["B"] == ["hello-service==1.1.0"] })
        // nginx reloads gracefully: an old worker may answer for a moment after the switch.
        #expect(try await world.fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.hasPrefix("hello-service 1.1.0") })

        let revert = try await world.config.revertAndPush()
        await world.controller.poll()
        await world.controller.settle()
        let reverted = try #require(try world.status())
        #expect(reverted.desired == revert && reverted.result == .converged && reverted.active == .a)
        #expect(try await world.fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.hasPrefix("hello-service 1.0.0") })
        for index in 0..<world.fleet.hosts {
            #expect(try await world.fleet.get(index).slot == "A")
        }
    }

    /// A release whose service never gets healthy on real hosts: halted before any host switched, reverted in git, and
    /// the revert applied by the next poll.
    @Test func aBrokenReleaseIsHaltedAndRevertedByTheController() async throws {
        let world = try await world(onFailure: "revert")
        await world.controller.poll()
        await world.controller.settle()
        try world.fleet.setPins(.b, "hello-service==9.9.9")
        try world.fleet.setActive(.b)
        let broken = try await world.config.commitAndPush("fleet: release hello-service 9.9.9")
        await world.controller.poll()
        await world.controller.settle()

        let halted = try #require(try world.status())
        #expect(halted.result == .halted && halted.desired == broken && halted.quarantined == [broken])
        let revert = try #require(halted.revert)
        #expect(try await world.config.inRemote(["rev-parse", "main"]).trimmingCharacters(in: .whitespacesAndNewlines) == revert)
        let failedSteps = world.metrics.counters(label: "pinwheel_host_step_failures_total")
            .map { "\(Dictionary(uniqueKeysWithValues: $0.dimensions)["step"] ?? "")=\($0.totalValue)" }
        #expect(failedSteps == ["check=3"], "every host prepared 9.9.9 at once, and its health check failed on each")
        #expect(try await world.bodies().allSatisfy { $0.hasPrefix("hello-service 1.0.0") }, "no host ever switched to 9.9.9")
        for index in 0..<world.fleet.hosts {
            #expect(try await world.fleet.get(index).slot == "A")
        }
        await world.controller.poll()
        await world.controller.settle()
        let status = try #require(try world.status())
        #expect(status.result == .converged && status.desired == revert)
    }
}

/// Two writers of the status branch: both commits survive.
@Suite("Status branch")
struct StatusBranchTests {
    @Test func aConcurrentWriterIsFetchedAndBuiltUpon() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-status-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/work/Environments/e", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/work/Environments/e/README"))
        let config = try await ConfigRemote(from: directory + "/work", in: directory)
        let watched = try await WatchedRepository.open(url: config.remote, branch: "main", statusBranch: "pinwheel/status",
                                                       cache: directory + "/cache", remote: RemoteOptions(),
                                                       author: Signature(name: "Pinwheel", email: "p@test"))
        try await watched.fetch()
        func status(_ environment: String, _ message: String) -> EnvironmentStatus {
            EnvironmentStatus(environment: environment, desired: String(repeating: "a", count: 40), result: .converged,
                              message: message, time: "2026-11-23T00:00:00Z", active: .a, pins: [], hosts: [:])
        }
        try await watched.writeStatus(status("e", "first"))

        // Another writer pushes to the status branch after our last fetch.
        let other = directory + "/other"
        _ = try await Shell.run("/usr/bin/git", ["clone", "-q", "-b", "pinwheel/status", config.remote, other])
        try FileManager.default.createDirectory(atPath: other + "/Environments/f", withIntermediateDirectories: true)
        try Data(try status("f", "other writer").yaml().utf8).write(to: URL(fileURLWithPath: other + "/Environments/f/status.yaml"))
        for arguments in [["add", "-A"], ["-c", "user.name=Other", "-c", "user.email=o@test", "commit", "-qm", "f: written by another controller"],
                          ["push", "-q", "origin", "pinwheel/status"]] {
            let output = try await Shell.run("/usr/bin/git", ["-C", other] + arguments)
            #expect(output.status == 0, "\(output.standardError)")
        }

        try await watched.writeStatus(status("e", "second"))
        let log = try await config.inRemote(["log", "--format=%s", "pinwheel/status"]).split(separator: "\n").map(String.init)
        #expect(log.count == 3)
        #expect(log[1] == "f: written by another controller")
        #expect(log[0].hasPrefix("e: converged at aaaaaaa") && log[2].hasPrefix("e: converged at aaaaaaa"))
        let files = try await config.inRemote(["ls-tree", "-r", "--name-only", "pinwheel/status"])
        #expect(files.contains("Environments/e/status.yaml") && files.contains("Environments/f/status.yaml"))
    }

    /// A replica that lost its lease while it was about to publish: its push, built on a tip it fetched before the
    /// new owner recorded, is rejected, fetched again, and then refused by the status branch's own fence, so the new
    /// owner's status stays the newest. Another environment's status is not fenced by it.
    @Test func aFormerOwnersStatusDoesNotLandOverTheNewOwners() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-fence-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/work/Environments/e", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/work/Environments/e/README"))
        let config = try await ConfigRemote(from: directory + "/work", in: directory)
        func replica(_ name: String) async throws -> WatchedRepository {
            let watched = try await WatchedRepository.open(url: config.remote, branch: "main", statusBranch: "pinwheel/status",
                                                           cache: directory + "/cache-\(name)", remote: RemoteOptions(),
                                                           author: Signature(name: "Pinwheel", email: "p@test"))
            try await watched.fetch()
            return watched
        }
        func status(_ environment: String, _ message: String, owner: LeaseStamp) -> EnvironmentStatus {
            var status = EnvironmentStatus(environment: environment, desired: String(repeating: "a", count: 40), result: .converged,
                                           message: message, time: "2026-12-07T00:00:00Z", active: .a, pins: [], hosts: [:])
            status.owner = owner
            return status
        }
        let former = try await replica("former")
        let owner = try await replica("owner")
        try await former.writeStatus(status("e", "former, while it held the lease", owner: LeaseStamp(replica: "former", epoch: 1)))
        try await owner.fetch()
        try await owner.writeStatus(status("e", "new owner", owner: LeaseStamp(replica: "owner", epoch: 2)))

        await #expect(throws: StatusFenced.self) {
            try await former.writeStatus(status("e", "former, stale", owner: LeaseStamp(replica: "former", epoch: 1)))
        }
        try await former.writeStatus(status("f", "former's other environment", owner: LeaseStamp(replica: "former", epoch: 1)))
        try await owner.fetch()
        #expect(try owner.latestStatus(of: "e")?.message == "new owner")
        #expect(try owner.latestStatus(of: "f")?.message == "former's other environment")
        let log = try await config.inRemote(["log", "--format=%B", "pinwheel/status"])
        #expect(log.contains("new owner") && !log.contains("former, stale"), "\(log)")
    }
}

