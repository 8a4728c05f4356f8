import Foundation
import Logging
import PinwheelCoordination
import PinwheelCore
import PinwheelTestSupport
import Testing

/// Two `pinwheel watch` replicas on a real loopback fleet sharing a real PostgreSQL: the owner is killed (SIGKILL) or
/// frozen (SIGSTOP) in the middle of a rollout, past its lease; the other takes the environment over under a higher
/// epoch and finishes the rollout; a frozen one, woken (SIGCONT), stops acting — it records nothing more, and the
/// hosts' fence holds the new owner's epoch.
@Suite("Owner killed or paused (two watch processes)", .serialized, .tags(.fleet))
struct PausedOwnerTests {
    static let first = 145

    /// A fleet whose policy paces the release (one host per batch, 6 s pauses), a PostgreSQL, and two `watch`
    /// replicas with short leases (3 s / 2 s / 500 ms): the owner, which rendezvous gives `fleet` to, has applied the
    /// first commit; the standby runs.
    struct Scene {
        let fleet: TestFleet
        let config: ConfigRemote
        let server: PostgresServer
        let names: (owner: String, standby: String)
        let owner: WatchProcess
        let standby: WatchProcess

        /// Pushes 1.1.0 into slot B and waits for the owner to pause after the release's canary; the release's commit.
        func releaseUntilTheOwnerPauses() async throws -> String {
            try fleet.setPins(.b, "hello-service==1.1.0")
            try fleet.setActive(.b)
            let mark = owner.mark
            let release = try await config.commitAndPush("fleet: release 1.1.0")
            try await owner.waitFor(.stageStarted, after: mark, timeout: .seconds(90), where: ["stage": "pause"])
            return release
        }

        func stop() {
            owner.signal(SIGCONT)
            for replica in [owner, standby] {
                replica.signal(SIGKILL)
                replica.process.waitUntilExit()
            }
            server.stop()
        }
    }

    static func scene() async throws -> Scene {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: 6s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let server = try PostgresServer()
        // Names rendezvous gives `fleet` to the first of, when both are alive.
        let names = try #require((0..<100).lazy.map { ("owner-\($0)", "standby-\($0)") }
            .first { Rendezvous.owner(of: "fleet", among: [$0.0, $0.1]) == $0.0 })
        let coordination = ["--coordination", server.url, "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"]
        let password = ["PINWHEEL_COORDINATION_PASSWORD": server.password]
        let owner = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache-owner",
                                     log: "\(fleet.directory)/owner.log", extra: coordination + ["--replica", names.0],
                                     environment: password)
        try await owner.waitFor(.statusCommitted, timeout: .seconds(120))
        let standby = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache-standby",
                                       log: "\(fleet.directory)/standby.log", extra: coordination + ["--replica", names.1],
                                       environment: password)
        try await standby.waitFor(.watching, timeout: .seconds(30))
        try await Task.sleep(for: .seconds(1))
        return Scene(fleet: fleet, config: config, server: server, names: (names.0, names.1), owner: owner, standby: standby)
    }

    /// Every status was recorded under an epoch no lower than the one before it, and the history shows both owners.
    static func expectTheStatusHistoryShowsTheTakeover(_ scene: Scene) async throws {
        let epochs = try await scene.config.inRemote(["log", "--reverse", "--format=%(trailers:key=Pinwheel-Epoch,valueonly,separator=)", "pinwheel/status"])
            .split(separator: "\n").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        #expect(epochs == epochs.sorted() && epochs.contains(1) && epochs.contains(2), "\(epochs)")
        let owners = try await scene.config.inRemote(["log", "--format=%(trailers:key=Pinwheel-Replica,valueonly)", "pinwheel/status"])
        #expect(owners.contains(scene.names.owner) && owners.contains(scene.names.standby), "\(owners)")
    }

    /// SIGKILL, as when the owner's machine dies after the canary of a paced release: the standby takes the
    /// environment over once the lease ends, under epoch 2, and finishes the rollout; every host's fence holds the new
    /// owner's epoch, so no host was acted on by two owners at once.
    @Test func aKilledOwnerIsTakenOverAndItsHalfDoneRolloutFinished() async throws {
        let scene = try await Self.scene()
        defer { scene.stop() }
        let (fleet, config, owner, standby) = (scene.fleet, scene.config, scene.owner, scene.standby)
        let release = try await scene.releaseUntilTheOwnerPauses()
        owner.signal(SIGKILL)
        owner.process.waitUntilExit()

        try await standby.waitFor(.leaseAcquired, timeout: .seconds(30))
        try await standby.waitFor(.statusCommitted, timeout: .seconds(90), where: ["result": "converged", "commit": release])
        let bodies = try await fleet.waitUntilServing("hello-service 1.1.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.1.0") }, "\(bodies)")
        let status = try #require(try config.status(of: "fleet"))
        #expect(status.desired == release && status.result == .converged)
        #expect(status.owner?.replica == scene.names.standby && status.owner?.epoch == 2, "\(String(describing: status.owner))")
        for index in 0..<fleet.hosts {
            let fence = try String(contentsOfFile: "\(fleet.hostFolder(index))/srv/fleet/fence", encoding: .utf8)
            #expect(fence.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "host \(index)'s fence: \(fence)")
        }
        try await Self.expectTheStatusHistoryShowsTheTakeover(scene)
    }

    @Test func aFrozenOwnerIsTakenOverAndStopsActingWhenItWakes() async throws {
        let scene = try await Self.scene()
        defer { scene.stop() }
        let (fleet, config, owner, standby, names) = (scene.fleet, scene.config, scene.owner, scene.standby, scene.names)

        let release = try await scene.releaseUntilTheOwnerPauses()
        owner.signal(SIGSTOP)

        // The standby takes over once the lease ends, under epoch 2, and finishes the rollout.
        try await standby.waitFor(.leaseAcquired, timeout: .seconds(30))
        try await standby.waitFor(.statusCommitted, timeout: .seconds(90), where: ["result": "converged", "commit": release])
        let bodies = try await fleet.waitUntilServing("hello-service 1.1.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.1.0") }, "\(bodies)")
        let status = try #require(try config.status(of: "fleet"))
        #expect(status.owner?.replica == names.standby && status.owner?.epoch == 2, "\(String(describing: status.owner))")

        // Woken, the old owner finds its renew deadline long past: it stops acting before anything else and records
        // nothing under its old epoch. Alive again, rendezvous gives it the environment back: it may take it only
        // through the store, under a new, higher epoch once the standby has handed it over.
        let woken = owner.mark
        owner.signal(SIGCONT)
        try await owner.waitFor(.leaseLost, after: woken, timeout: .seconds(20), where: ["env": "fleet"])
        try await Task.sleep(for: .seconds(3))
        let after = owner.events(since: woken)
        let stopped = try #require(after.firstIndex { $0["event"] == ControllerEvent.leaseLost.rawValue })
        let acted = after.prefix(stopped).filter {
            [ControllerEvent.stageStarted, .hostFinished, .statusCommitted].map(\.rawValue).contains($0["event"] ?? "")
        }
        #expect(acted.isEmpty, "acted before it stopped: \(acted)")
        // Nothing recorded under the old epoch: a status it commits after waking comes only under a lease it acquired
        // anew (its cancelled rollout either records nothing or is refused: `status.notRecorded`).
        if let committed = after.firstIndex(where: { $0["event"] == ControllerEvent.statusCommitted.rawValue }) {
            let reacquired = after.firstIndex { $0["event"] == ControllerEvent.leaseAcquired.rawValue }
            #expect(reacquired.map { $0 < committed } == true, "a status committed before it took the lease again: \(after)")
        }
        for index in 0..<fleet.hosts {
            #expect(try await fleet.get(index).body.hasPrefix("hello-service 1.1.0"))
        }
        try await Self.expectTheStatusHistoryShowsTheTakeover(scene)
    }
}
