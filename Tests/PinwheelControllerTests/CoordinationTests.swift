import Foundation
import MetricsTestKit
import PinwheelCoordination
import PinwheelCore
import PinwheelFleet
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// Several controllers sharing one fleet (`watch --coordination`): two replicas against a real PostgreSQL of the
/// test's own, over in-memory hosts that keep the agent's fence. Each environment is acted on by exactly one replica,
/// under an epoch every host request carries; a replica that stops is taken over and its half-done rollout finished;
/// with the database down nothing is changed until it returns.
///
/// Short lease timings (4 s lease, 2.5 s renew deadline, 500 ms retry) keep the suite fast; the discipline is the
/// same as the recommended 15 s / 10 s / 2 s.
@Suite("Several controllers (PostgreSQL)", .serialized)
struct CoordinationTests {
    static let timing = LeaseTiming(duration: .seconds(4), renewDeadline: ConfigDuration(milliseconds: 2500), retryPeriod: ConfigDuration(milliseconds: 500))
    static let environments = ["fleet", "orders", "search", "billing"]

    /// One controller replica and its lease keeper, each running on a task of its own.
    struct Replica {
        let name: String
        let keeper: LeaseKeeper
        let controller: Controller
        let tasks: [Task<Void, Never>]

        /// SIGTERM: the controller's steps finish, then every lease is released and the replica leaves.
        func stop() async {
            await controller.stop()
            await tasks[1].value
            await keeper.stop()
            await tasks[0].value
        }

        /// As a replica that dies: nothing more is renewed or released, and it sends nothing more.
        func crash() async {
            await keeper.stop(releasing: false)
            await controller.stop()
            for task in tasks { await task.value }
        }
    }

    struct World {
        let fleet: InMemoryTestFleet
        let config: ConfigRemote
        let server: PostgresServer
        let logs: CapturedLogs

        func replica(_ name: String, metrics: TestMetrics? = nil, timing: LeaseTiming = CoordinationTests.timing) throws -> Replica {
            let settings = try CoordinationSettings(url: server.url, password: server.password)
            let keeper = LeaseKeeper(replica: name, settings: settings, timing: timing, logger: logs.logger(),
                                     metricsFactory: metrics)
            let configuration = ControllerConfiguration(
                repository: config.remote, interval: .milliseconds(100), driftInterval: .seconds(3600),
                cacheDirectory: "\(fleet.directory)/cache-\(name)", authorName: "Pinwheel", authorEmail: "pinwheel@test")
            let controller = Controller(configuration: configuration, logger: logs.logger(), agents: fleet.agents, coordination: keeper)
            return Replica(name: name, keeper: keeper, controller: controller,
                           tasks: [Task { await keeper.run() }, Task { await controller.run() }])
        }

        /// The replicas' log, for failure messages.
        var log: String {
            logs.all.suffix(80).map { "\($0.level) \($0.message) \($0.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
                .joined(separator: "\n")
        }

        func status(_ environment: String) throws -> EnvironmentStatus? {
            try config.status(of: environment)
        }

        /// The hosts of `environment`, as the world's config names them.
        func hosts(_ environment: String) -> [InMemoryHost] {
            environment == fleet.environmentName ? (0..<fleet.hosts).map(fleet.host) : ["\(environment)-01", "\(environment)-02"].map(fleet.agents.host)
        }

        func release(_ environment: String, _ pins: String) async throws -> String {
            try fleet.write("Environments/\(environment)/B.txt", pins + "\n")
            let file = "Environments/\(environment)/environment.yaml"
            try fleet.write(file, try fleet.read(file).replacingOccurrences(of: "active: A\n", with: "active: B\n"))
            return try await config.commitAndPush("\(environment): release \(pins)")
        }
    }

    func world(pause: String = "0s") async throws -> World {
        let fleet = try InMemoryTestFleet(hosts: 2)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: \(pause), maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        for name in Self.environments.dropFirst() {
            try fleet.addEnvironment(name, hosts: ["\(name)-01", "\(name)-02"])
        }
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        return World(fleet: fleet, config: config, server: try PostgresServer(), logs: CapturedLogs())
    }

    /// Two replica names that rendezvous hashing gives two environments each or so: both have work.
    static func splittingNames() throws -> (String, String) {
        for index in 0..<100 {
            let (a, b) = ("replica-a\(index)", "replica-b\(index)")
            let owners = Rendezvous.assignment(of: environments, among: [a, b])
            if Set(owners.values).count == 2 { return (a, b) }
        }
        throw ShellFailure("no pair of names splits the environments")
    }

    @Test func twoReplicasSplitTheEnvironmentsAndEachIsActedOnByOne() async throws {
        let world = try await world()
        defer { world.server.stop() }
        let (nameA, nameB) = try Self.splittingNames()
        let metrics = TestMetrics()
        let a = try world.replica(nameA, metrics: metrics)
        let b = try world.replica(nameB)
        let converged = try await eventually(within: .seconds(30)) {
            try Self.environments.allSatisfy { try world.status($0)?.result == .converged }
        }
        #expect(converged, "\(world.log)")
        // /metrics says what replica A holds, how old each lease is, and that the store answers.
        // Eventually, not after a fixed wait: on a loaded machine a renewal can be missed and the lease taken again.
        let ownedByA = Rendezvous.assignment(of: Self.environments, among: [nameA, nameB])
        let heldAsAssigned = await eventually(within: .seconds(20)) {
            // A gauge not reported yet is looked at again, not a failure.
            Self.environments.allSatisfy { environment in
                (try? metrics.expectGauge("pinwheel_lease_held", [("environment", environment)]))?.lastValue
                    == (ownedByA[environment] == nameA ? 1 : 0)
            }
        }
        #expect(heldAsAssigned, "replica A's pinwheel_lease_held never matched the assignment \(ownedByA)")
        // Once every lease is held (one handed over between replicas is released first, its age then the time since
        // 1970), each is younger than its duration.
        let ages = await eventually(within: .seconds(20)) {
            Self.environments.allSatisfy { environment in
                guard let age = (try? metrics.expectGauge("pinwheel_lease_age_seconds", [("environment", environment)]))?.lastValue
                else { return false }
                return age >= 0 && age < Self.timing.duration.seconds
            }
        }
        #expect(ages, "a held lease is younger than its duration")
        #expect(try metrics.expectGauge("pinwheel_coordination_store_up").lastValue == 1)
        #expect(try metrics.expectGauge("pinwheel_coordination_replicas").lastValue == 2)
        let expected = Rendezvous.assignment(of: Self.environments, among: [nameA, nameB])
        // The first statuses may come from either replica: one that started a moment earlier may take an environment
        // before the other's first heartbeat, and hands it over once it sees the other.
        for environment in Self.environments {
            #expect(try [nameA, nameB].contains(world.status(environment)?.owner?.replica))
        }
        // Every request carried its sender's epoch.
        #expect(world.fleet.agents.exchanges.allSatisfy { $0.epoch != nil })
        // Between them they hold every environment, never one twice (a loaded machine may delay a renewal: looked at
        // until both hold theirs).
        let split = await eventually(within: .seconds(10)) {
            let heldA = await a.keeper.snapshot().held
            let heldB = await b.keeper.snapshot().held
            #expect(Set(heldA.keys).isDisjoint(with: heldB.keys))
            return Set(heldA.keys).union(heldB.keys) == Set(Self.environments)
        }
        #expect(split)
        let leasedAsAssigned = await eventually(within: .seconds(10)) {
            let leases = await a.keeper.snapshot().leases
            return leases.map(\.environment) == Self.environments.sorted() && leases.allSatisfy { $0.holder == expected[$0.environment] }
        }
        let leases = await a.keeper.snapshot().leases
        #expect(leasedAsAssigned, "\(leases)")
        // Each release converges once, applied by its owner alone.
        for environment in Self.environments {
            _ = try await world.release(environment, "hello-service==1.1.0")
        }
        let released = try await eventually(within: .seconds(30)) {
            try Self.environments.allSatisfy { environment in
                let status = try world.status(environment)
                return status?.result == .converged && status?.pins == ["hello-service==1.1.0"]
                    && world.hosts(environment).allSatisfy { $0.servedPins == ["hello-service==1.1.0"] }
            }
        }
        #expect(released, "\(world.log)")
        for environment in Self.environments {
            let messages = try await world.config.inRemote(["log", "--format=%s", "pinwheel/status", "--", EnvironmentStatus.path(of: environment)])
            #expect(messages.split(separator: "\n").filter { $0.contains("converged") && $0.contains("hello-service 1.1.0") }.count == 1,
                    "\(messages)")
            let status = try #require(try world.status(environment))
            #expect(status.owner?.replica == expected[environment], "\(environment) is released by its rendezvous owner")
            let epoch = try #require(status.owner?.epoch)
            for host in world.hosts(environment) {
                #expect(host.fence(of: environment) == epoch, "\(host.name) saw the owner's epoch")
                // Never an older owner after a newer one.
                let epochs = world.fleet.agents.exchanges.filter { $0.host == host.name }.compactMap(\.epoch)
                #expect(epochs == epochs.sorted() && epochs.last == epoch, "\(host.name): \(epochs)")
            }
        }
        // Each replica's page and API show every environment, the other replica's too, each with its owner and its
        // newest status (read back from the status branch, which the other replica moved).
        let shownEverywhere = await eventually(within: .seconds(30)) {
            for replica in [a, b] {
                await replica.controller.poll()
                let shown = await replica.controller.overview()
                guard shown.map(\.status.environment) == Self.environments.sorted(),
                      shown.allSatisfy({ $0.status.owner?.replica == expected[$0.status.environment]
                                         && $0.status.pins == ["hello-service==1.1.0"] }) else { return false }
            }
            return true
        }
        #expect(shownEverywhere, "every replica shows every environment and its owner")
        await a.stop()
        await b.stop()
    }

    @Test func aReplicaThatStopsIsTakenOverAndItsHalfDoneRolloutFinished() async throws {
        // A pause between batches keeps the rollout half-done long enough to stop its owner in the middle.
        let world = try await world(pause: "3s")
        defer { world.server.stop() }
        let (nameA, nameB) = try Self.splittingNames()
        let a = try world.replica(nameA)
        let b = try world.replica(nameB)
        let converged = try await eventually(within: .seconds(30)) {
            try Self.environments.allSatisfy { try world.status($0)?.result == .converged }
        }
        #expect(converged, "\(world.log)")
        let owned = Rendezvous.assignment(of: Self.environments, among: [nameA, nameB])
        let environment = try #require(Self.environments.first { owned[$0] == nameA })
        let hosts = world.hosts(environment)
        let before = try #require(try world.status(environment)?.owner)
        #expect(before.replica == nameA)
        let mark = world.fleet.agents.exchanges.count
        let release = try await world.release(environment, "hello-service==1.1.0")
        // The canary switched; the pause before the second host is under way.
        let canary = await eventually(within: .seconds(30)) { hosts.contains { $0.routed == .b } }
        #expect(canary, "\(world.log)")
        #expect(hosts.filter { $0.routed == .b }.count == 1)
        // From before the crash: the lease runs from the last renewal, at most a retry period before the keeper stops,
        // and `crash()` returns only once the controller's step under way has finished, which may take seconds.
        let crashed = ContinuousClock.now
        await a.crash()
        // The other replica takes the environment over after the lease ends, with a higher epoch, and finishes the
        // rollout from what the hosts say: both hosts on the release.
        let finished = try await eventually(within: .seconds(30)) {
            let status = try world.status(environment)
            return status?.applied == release && status?.result == .converged && status?.owner?.replica == nameB
        }
        #expect(finished, "\(world.log)")
        let status = try #require(try world.status(environment))
        let after = try #require(status.owner)
        #expect(after.replica == nameB && after.epoch > before.epoch, "taking over raised the epoch")
        #expect(hosts.allSatisfy { $0.routed == .b && $0.servedPins == ["hello-service==1.1.0"] && $0.fence(of: environment) == after.epoch })
        // No host got a request from the old owner after the new one reached it.
        for host in hosts {
            let epochs = world.fleet.agents.exchanges(since: mark).filter { $0.host == host.name }.compactMap(\.epoch)
            #expect(epochs == epochs.sorted(), "\(host.name): \(epochs)")
            #expect(epochs.contains(before.epoch) && epochs.contains(after.epoch))
        }
        // Only after the lease could end: the new owner never acted within the old one's renew deadline.
        #expect(ContinuousClock.now - crashed >= Self.timing.renewDeadline.duration)
        // The status history shows the takeover.
        let owners = try await world.config.inRemote(["log", "--format=%(trailers:key=Pinwheel-Replica,valueonly)", "pinwheel/status",
                                                      "--", EnvironmentStatus.path(of: environment)])
        #expect(owners.contains(nameA) && owners.contains(nameB), "\(owners)")
        await b.stop()
    }

    @Test func withTheDatabaseDownNothingChangesUntilItReturns() async throws {
        let world = try await world(pause: "3s")
        defer { world.server.stop() }
        let replica = try world.replica("solo")
        let converged = try await eventually(within: .seconds(30)) {
            try Self.environments.allSatisfy { try world.status($0)?.result == .converged }
        }
        #expect(converged, "\(world.log)")
        let hosts = world.hosts("fleet")
        let release = try await world.release("fleet", "hello-service==1.1.0")
        let canary = await eventually(within: .seconds(30)) { hosts.contains { $0.routed == .b } }
        #expect(canary, "\(world.log)")
        // The database stops answering in the pause: the replica stops acting at its renew deadline, before its
        // lease could end; the rollout stops where it is and the hosts keep serving.
        world.server.pause()
        let stopped = await eventually(within: .seconds(5)) { await replica.keeper.epoch(for: "fleet") == nil }
        #expect(stopped)
        let mark = world.fleet.agents.exchanges.count
        try await Task.sleep(for: .seconds(4))
        #expect(world.fleet.agents.exchanges(since: mark).filter { $0.action == "execute" }.isEmpty, "nothing changed while the database was down")
        #expect(hosts.filter { $0.routed == .b }.count == 1)
        #expect(try world.status("fleet")?.applied != release)
        #expect(!world.logs.events(.leaseLost).isEmpty, "\(world.log)")
        // It returns: the replica takes its leases again and finishes the release.
        world.server.resume()
        let finished = try await eventually(within: .seconds(30)) {
            try world.status("fleet")?.applied == release && world.status("fleet")?.result == .converged
        }
        #expect(finished, "\(world.log)")
        #expect(hosts.allSatisfy { $0.routed == .b })
        await replica.stop()
    }

    /// A replica joins while another is in the middle of a paced rollout of an environment rendezvous now gives to the
    /// newcomer: the rollout stops at its safe point (the pause) and its lease is released at once, so the newcomer
    /// takes the environment over long before the lease could have lapsed.
    @Test func anEnvironmentHandedOverMidRolloutIsReleasedOnceItsRolloutStops() async throws {
        // Leases of 30 s renewed every second: lapsing would take 30 s after the last renewal.
        let timing = LeaseTiming(duration: .seconds(30), renewDeadline: .seconds(20), retryPeriod: .seconds(1))
        let world = try await world()
        defer { world.server.stop() }
        let (nameA, nameB) = try Self.splittingNames()
        let a = try world.replica(nameA, timing: timing)
        let converged = try await eventually(within: .seconds(30)) {
            try Self.environments.allSatisfy { try world.status($0)?.result == .converged }
        }
        #expect(converged, "\(world.log)")
        let moving = try #require(Self.environments.first { Rendezvous.owner(of: $0, among: [nameA, nameB]) == nameB })
        let hosts = world.hosts(moving)
        // The release comes with a policy that pauses a minute after the canary.
        try world.fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: 60s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        _ = try await world.release(moving, "hello-service==1.1.0")
        let canary = await eventually(within: .seconds(30)) { hosts.contains { $0.routed == .b } }
        #expect(canary, "\(world.log)")
        let before = try #require(await a.keeper.epoch(for: moving))
        let joined = ContinuousClock.now
        let b = try world.replica(nameB, timing: timing)
        let takenOver = await eventually(within: .seconds(25)) { await b.keeper.epoch(for: moving) != nil }
        #expect(takenOver, "\(world.log)")
        #expect(ContinuousClock.now - joined < timing.duration.duration, "taken over before the lease could lapse")
        #expect(await a.keeper.epoch(for: moving) == nil)
        let after = try #require(await b.keeper.epoch(for: moving))
        #expect(after > before)
        await b.stop()
        await a.stop()
    }
}

