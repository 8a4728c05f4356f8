import Foundation
import Logging
import PinwheelCoordination
import PinwheelTestSupport
import Testing

/// `apply --coordination`: an apply takes the environment's lease before it touches a host, so it never interleaves
/// with a controller or another apply. A controller's lease is refused with its holder named; another apply's is
/// waited for with `--wait`, saying so; the lease is given up when the apply ends, however it ends.
@Suite("pinwheel apply --coordination", .serialized)
struct ApplyLeaseTests {
    /// The in-memory fleet's config (hosts at documentation addresses with no known-hosts file): an apply that gets
    /// past the lease stops at its first host with a clear error, so these tests touch no host.
    func world() async throws -> (InMemoryTestFleet, ConfigRemote, PostgresServer) {
        let fleet = try InMemoryTestFleet(hosts: 1)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        return (fleet, config, try PostgresServer())
    }

    static func store(_ server: PostgresServer) throws -> PostgresCoordination {
        // The test's own store waits longer than a replica's 3 s: a database just started on a loaded machine is slow
        // to answer its first statements, and this store only sets the scene.
        PostgresCoordination(settings: try CoordinationSettings(url: server.url, password: server.password), logger: Logger(label: "test"),
                             statementTimeout: .seconds(30))
    }

    @Test func aControllersLeaseIsRefusedWithItsHolderNamed() async throws {
        let (fleet, config, server) = try await world()
        defer {
            server.stop()
            withExtendedLifetime(fleet) {}  // its folder holds the config
        }
        try await Self.store(server).withRunning { store in
            try await store.migrate()
            _ = try await store.acquire("fleet", holder: "ctl-1", duration: .seconds(60))
            let refused = try CLIRunner.run(["apply", "fleet", "--repo", config.work, "--coordination", server.url],
                                            environment: ["PINWHEEL_COORDINATION_PASSWORD": server.password])
            #expect(refused.status == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("refused: ctl-1 (lease epoch 1) is acting on fleet now; a controller owns it"), "\(refused.stderr)")
            #expect(try await store.leases().first?.holder == "ctl-1", "the controller keeps its lease")
        }
    }

    @Test func anotherApplysLeaseIsWaitedForAndTheLeaseGivenUpAtTheEnd() async throws {
        let (fleet, config, server) = try await world()
        defer {
            server.stop()
            withExtendedLifetime(fleet) {}  // its folder holds the config
        }
        try await Self.store(server).withRunning { store in
            try await store.migrate()
            let first = try #require(try await store.acquire("fleet", holder: "apply-alice-1", duration: .seconds(60)))
            let without = try CLIRunner.run(["apply", "fleet", "--repo", config.work, "--coordination", server.url],
                                            environment: ["PINWHEEL_COORDINATION_PASSWORD": server.password])
            #expect(without.status == 1 && without.stderr.contains("try again when it is done, or give --wait"), "\(without.stderr)")

            let releaser = Task {
                try await Task.sleep(for: .milliseconds(1500))
                try await store.release("fleet", holder: "apply-alice-1", epoch: first.epoch)
            }
            let waited = try CLIRunner.run(["apply", "fleet", "--repo", config.work, "--coordination", server.url, "--wait"],
                                           environment: ["PINWHEEL_COORDINATION_PASSWORD": server.password])
            try await releaser.value
            #expect(waited.stderr.contains("waiting for apply-alice-1 (lease epoch 1) to finish"), "\(waited.stderr)")
            #expect(waited.stderr.contains("the lease is free; applying under epoch 2"), "\(waited.stderr)")
            // It could not reach its host (no known-hosts file) and gave the lease up on the way out.
            #expect(waited.status != 0)
            let next = try await store.acquire("fleet", holder: "ctl-1", duration: .seconds(60))
            #expect(next?.epoch == 3, "the apply released its lease: a controller takes it at once")
        }
    }
}
