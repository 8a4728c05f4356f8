import Foundation
import MetricsTestKit
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// The controller against a real loopback fleet and a real bare "remote" that people push to.
@Suite("Controller", .serialized, .tags(.fleet))
struct ControllerTests {
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

        func statusMessages() async throws -> [String] {
            try await config.inRemote(["log", "--format=%s", "pinwheel/status"]).split(separator: "\n").map(String.init)
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

    @Test func aReleaseIsRolledOutAndTheStatusNamesItsCommit() async throws {
        let world = try await world()
        await world.controller.poll()
        await world.controller.settle()
        let first = try #require(try world.status())
        #expect(first.result == .converged)
        #expect(first.desired == (try await world.config.head()))
        #expect(first.hosts.values.allSatisfy { $0.serving == .a && $0.healthy })

        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        let mark = world.logs.all.count
        await world.controller.poll()
        await world.controller.settle()
        let status = try #require(try world.status())
        #expect(status.desired == release)
        #expect(status.result == .converged)
        #expect(status.active == .b)
        #expect(status.pins == ["hello-service==1.1.0"])
        #expect(status.hosts.values.allSatisfy { $0.serving == .b && $0.healthy && $0.slots["B"] == ["hello-service==1.1.0"] })
        let messages = try await world.statusMessages()
        #expect(messages.first == "fleet: converged at \(release.prefix(7)) — slot B, hello-service 1.1.0, 3/3 hosts")
        let bodies = try await world.fleet.waitUntilServing("hello-service 1.1.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.1.0") })
        // The canary went first, alone.
        let switches = world.logs.all.dropFirst(mark).filter { $0.message == "switching" }.map { $0.metadata["stage"] ?? "" }
        #expect(switches == ["canary", "batch 1"])
        // The metrics say the same: two converged rollouts, every host healthy on B, the release's commit applied.
        let converged = [("environment", "fleet"), ("result", "converged")]
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", converged).totalValue == 2)
        #expect(try world.metrics.expectTimer("pinwheel_reconcile_duration_seconds", converged).values.count == 2)
        #expect(try world.metrics.expectGauge("pinwheel_hosts", [("environment", "fleet"), ("slot", "B"), ("healthy", "true")]).lastValue == 3)
        #expect(try world.metrics.expectGauge("pinwheel_hosts", [("environment", "fleet"), ("slot", "A"), ("healthy", "true")]).lastValue == 0)
        #expect(try world.metrics.expectGauge("pinwheel_applied_commit_info", [("environment", "fleet"), ("commit", release)]).lastValue == 1)
        #expect(world.metrics.recorders(label: "pinwheel_applied_commit_info").count == 1, "the earlier commit's series is gone")
        #expect(world.metrics.counterTotal(label: "pinwheel_poll_failures_total") == 0)
        #expect(try world.metrics.expectGauge("pinwheel_last_successful_poll_timestamp_seconds").lastValue ?? 0 > Date().timeIntervalSince1970 - 60)

        // Nothing new: a poll changes nothing and commits nothing.
        let before = try await world.statusMessages().count
        await world.controller.poll()
        await world.controller.settle()
        #expect(try await world.statusMessages().count == before)
    }

    @Test func aRevertSwitchesBackBeforeAnyInstall() async throws {
        let world = try await world()
        await world.controller.poll()
        await world.controller.settle()
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.controller.poll()
        await world.controller.settle()
        let mark = world.logs.all.count

        let revert = try await world.config.revertAndPush()
        await world.controller.poll()
        await world.controller.settle()
        let lines = Array(world.logs.all.dropFirst(mark))
        let events = lines.map(\.message)
        let observing = try #require(lines.firstIndex { $0.message == "observing" })
        #expect(lines[observing].metadata["warm"] == "A", "observing offers the warm switch to slot A")
        let switched = try #require(lines.lastIndex { $0.message == "host step done" && $0.metadata["stage"] == "warm switch" })
        let preparedIdle = try #require(events.firstIndex { $0 == "preparing the idle slot" })
        #expect(switched < preparedIdle, "every host switches before the idle slot is re-prepared")
        #expect(!events.contains("preparing the active slot"), "the old slot was warm: nothing to install before the switch")
        #expect(observing == events.startIndex + 1, "the switch is the first round trip after noticing the commit: \(events)")
        let steps = lines.filter { $0.message == "host step done" }.prefix(3).compactMap { $0.metadata["steps"] }
        #expect(steps == Array(repeating: "verify A, switch to A", count: 3))
        let status = try #require(try world.status())
        #expect(status.desired == revert)
        #expect(status.result == .converged && status.active == .a)
        // nginx reloads gracefully: an old worker may answer for a moment after the switch.
        #expect(try await world.fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.hasPrefix("hello-service 1.0.0") })
    }

    @Test func aBrokenReleaseIsHaltedAndRevertedByTheController() async throws {
        let world = try await world(onFailure: "revert")
        await world.controller.poll()
        await world.controller.settle()
        try world.fleet.setPins(.b, "hello-service==9.9.9")
        try world.fleet.setActive(.b)
        let broken = try await world.config.commitAndPush("fleet: release hello-service 9.9.9")
        await world.controller.poll()
        await world.controller.settle()

        let halted = try #require(try await world.statusMessages().first)
        #expect(halted.hasPrefix("fleet: halted at \(broken.prefix(7))"))
        let log = try await world.config.inRemote(["log", "--format=%an|%s", "main"]).split(separator: "\n")
        #expect(log.first == "Pinwheel|Revert \"fleet: release hello-service 9.9.9\"")
        let revertMessage = try await world.config.inRemote(["log", "-1", "--format=%B", "main"])
        #expect(revertMessage.contains("This reverts commit \(broken)"))
        #expect(revertMessage.contains("Pinwheel halted the rollout of fleet"))
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", [("environment", "fleet"), ("result", "reverted")]).totalValue == 1)
        // Every host prepares 9.9.9 at once (prepare: 20), and its health check fails on each of them.
        let failedSteps = world.metrics.counters(label: "pinwheel_host_step_failures_total")
            .map { "\(Dictionary(uniqueKeysWithValues: $0.dimensions)["step"] ?? "")=\($0.totalValue)" }
        #expect(failedSteps == ["check=3"])
        #expect(try await world.bodies().allSatisfy { $0.hasPrefix("hello-service 1.0.0") }, "no host ever switched to 9.9.9")
        for index in 0..<world.fleet.hosts {
            #expect(try await world.fleet.get(index).slot == "A")
        }
        // The next poll applies the revert: A stays, B's pins go back.
        await world.controller.poll()
        await world.controller.settle()
        let status = try #require(try world.status())
        #expect(status.result == .converged)
        #expect(status.desired == (try await world.config.inRemote(["rev-parse", "main"])).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func anInvalidCommitAppliesNothingUntilTheNextValidOne() async throws {
        let world = try await world(hosts: 2)
        await world.controller.poll()
        await world.controller.settle()
        let before = try await world.fleet.snapshot(0)
        try world.fleet.setPins(.b, "hello-service>=1.1.0")
        try world.fleet.setActive(.b)
        let invalid = try await world.config.commitAndPush("fleet: a range by mistake")
        await world.controller.poll()
        await world.controller.settle()
        let status = try #require(try world.status())
        #expect(status.result == .invalid)
        #expect(status.desired == invalid)
        #expect(status.errors.contains { $0.contains("Environments/fleet/B.txt:1:1: error: `hello-service>=1.1.0` is a range") })
        #expect(try await world.fleet.snapshot(0) == before, "nothing was applied")
        #expect(try world.metrics.expectCounter("pinwheel_rollouts_total", [("environment", "fleet"), ("result", "invalid")]).totalValue == 1)

        try world.fleet.setPins(.b, "hello-service==1.1.0")
        let fixed = try await world.config.commitAndPush("fleet: pin it")
        await world.controller.poll()
        await world.controller.settle()
        let after = try #require(try world.status())
        #expect(after.result == .converged && after.desired == fixed)
        #expect(try await world.fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.hasPrefix("hello-service 1.1.0") })
    }

    @Test func theRemoteGoingAwayAndComingBackIsSurvived() async throws {
        let world = try await world(hosts: 1)
        await world.controller.poll()
        await world.controller.settle()
        let away = world.config.remote + ".away"
        try FileManager.default.moveItem(atPath: world.config.remote, toPath: away)
        await world.controller.poll()
        await world.controller.settle()
        var health = await world.controller.health()
        #expect(health.lastError?.contains("unreachable") == true)
        #expect(health.status == "degraded")
        #expect(world.metrics.counterTotal(label: "pinwheel_poll_failures_total") == 1)
        #expect(try world.metrics.expectTimer("pinwheel_poll_duration_seconds").values.count == 2)
        #expect(try await world.fleet.get(0).body.hasPrefix("hello-service 1.0.0"), "the hosts keep the last applied state")

        try FileManager.default.moveItem(atPath: away, toPath: world.config.remote)
        try world.fleet.setPins(.b, "hello-service==2.0.0")
        try world.fleet.setActive(.b)
        try await world.config.commitAndPush("fleet: release 2.0.0 while the controller could not see the remote")
        await world.controller.poll()
        await world.controller.settle()
        health = await world.controller.health()
        #expect(health.lastError == nil)
        #expect(health.status == "ok")
        #expect(try await world.fleet.waitUntilServing("hello-service 2.0.0").first?.hasPrefix("hello-service 2.0.0") == true)
    }

    /// Environments reconcile on their own tasks: `attic`, whose only host accepts connections and never answers
    /// (ssh waits out its handshake timeout), is first in order, yet `fleet`'s release is not held up by it.
    @Test func anEnvironmentWithAHangingHostNeverDelaysAnother() async throws {
        let world = try await world()
        await world.controller.poll()
        await world.controller.settle()
        let silent = try SilentListener()
        let text = try world.fleet.read("Environments/fleet/environment.yaml")
        let hosts = try #require(text.range(of: "hosts:\n"))
        try world.fleet.write("Environments/attic/environment.yaml", String(text[..<hosts.lowerBound]) + """
            hosts:
              - name: attic-01
                address: 127.0.0.1
                port: \(silent.port)

            """)
        try world.fleet.write("Environments/attic/A.txt", "hello-service==1.0.0\n")
        try world.fleet.write("Environments/attic/B.txt", "hello-service==1.0.0\n")
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("attic: a new environment; fleet: release hello-service 1.1.0")
        await world.controller.poll()
        await world.controller.settle()
        let messages = try await world.statusMessages()
        let fleetStatus = try #require(messages.firstIndex { $0.hasPrefix("fleet: converged at \(release.prefix(7))") }, "\(messages)")
        let atticStatus = try #require(messages.firstIndex { $0.hasPrefix("attic: degraded at \(release.prefix(7))") }, "\(messages)")
        #expect(atticStatus < fleetStatus, "fleet's status was committed before attic's (newest first): \(messages)")
    }

    @Test func theRunLoopWakesOnATriggerAndStopsCleanly() async throws {
        let world = try await world(hosts: 1)
        let controller = world.controller
        let loop = Task { await controller.run() }
        // The first poll converges the fleet.
        for _ in 0..<100 where (try? world.status())??.result != .converged {
            try await Task.sleep(for: .milliseconds(100))
        }
        try world.fleet.setActive(.b)
        let flip = try await world.config.commitAndPush("fleet: switch to B")
        controller.trigger("test")
        for _ in 0..<100 where (try? world.status())??.desired != flip {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try world.status()?.desired == flip)
        await controller.stop()
        await loop.value
        #expect(world.logs.messages.last == "stopped")
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
}
