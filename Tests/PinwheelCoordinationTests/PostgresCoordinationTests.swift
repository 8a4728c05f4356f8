import Foundation
import Logging
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelCoordination

/// The coordination store against a real PostgreSQL of the test's own: leases change hands only when free or
/// expired and raise the epoch when they do, renewals fail once a lease is lost, heartbeats say who is alive, and
/// racing replicas get exactly one owner.
@Suite("Coordination store (PostgreSQL)", .serialized)
struct PostgresCoordinationTests {
    static func store(_ server: PostgresServer, password: String? = nil) throws -> PostgresCoordination {
        let settings = try CoordinationSettings(url: server.url, password: password ?? server.password)
        return PostgresCoordination(settings: settings, logger: Logger(label: "test.coordination"))
    }

    @Test func leasesChangeHandsOnlyWhenFreeOrExpired() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        try await Self.store(server).withRunning { store in
            try await store.migrate()
            try await store.migrate()  // every replica runs it at start: twice is fine
            let short = ConfigDuration(milliseconds: 1500)
            let first = try #require(try await store.acquire("production", holder: "a", duration: short))
            #expect(first.holder == "a" && first.epoch == 1)
            #expect(try await store.acquire("production", holder: "b", duration: short) == nil, "a holds it")
            let again = try #require(try await store.acquire("production", holder: "a", duration: short))
            #expect(again.epoch == 1, "the holder acquiring again keeps its epoch")
            #expect(try await store.renew("production", holder: "a", epoch: 1)?.epoch == 1)
            #expect(try await store.renew("production", holder: "b", epoch: 1) == nil, "only the holder renews")

            try await Task.sleep(for: .milliseconds(1700))
            #expect(try await store.renew("production", holder: "a", epoch: 1) == nil, "an expired lease is not renewed")
            let taken = try #require(try await store.acquire("production", holder: "b", duration: short))
            #expect(taken.holder == "b" && taken.epoch == 2, "taking over raises the epoch")
            #expect(try await store.renew("production", holder: "a", epoch: 1) == nil, "the old holder learns it lost the lease")
            #expect(try await store.acquire("production", holder: "a", duration: short) == nil)

            try await store.release("production", holder: "b", epoch: 2)
            let back = try #require(try await store.acquire("production", holder: "a", duration: short))
            #expect(back.epoch == 3, "a released lease is free at once, and changes hands with a new epoch")
            #expect(try await store.leases().map(\.environment) == ["production"])
        }
    }

    @Test func racingReplicasGetExactlyOneOwner() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        try await Self.store(server).withRunning { store in
            try await store.migrate()
            let winners = try await withThrowingTaskGroup(of: String?.self) { group in
                for replica in 0..<12 {
                    group.addTask { try await store.acquire("staging", holder: "r\(replica)", duration: .seconds(30))?.holder }
                }
                var winners: [String] = []
                for try await winner in group { if let winner { winners.append(winner) } }
                return winners
            }
            #expect(winners.count == 1, "\(winners)")
            #expect(try await store.leases().first?.holder == winners.first)
        }
    }

    @Test func heartbeatsSayWhoIsAlive() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        try await Self.store(server).withRunning { store in
            try await store.migrate()
            try await store.heartbeat("b")
            try await store.heartbeat("a")
            #expect(try await store.liveReplicas(within: .seconds(10)) == ["a", "b"])
            try await Task.sleep(for: .milliseconds(1200))
            try await store.heartbeat("a")
            #expect(try await store.liveReplicas(within: .seconds(1)) == ["a"], "b's heartbeat is too old")
            _ = try await store.acquire("production", holder: "a", duration: .seconds(60))
            try await store.leave("a")
            #expect(try await store.liveReplicas(within: .seconds(10)) == ["b"])
            #expect(try await store.acquire("production", holder: "b", duration: .seconds(60))?.epoch == 2,
                    "a replica that leaves frees its leases at once")
        }
    }

    @Test func aWrongPasswordIsAClearErrorThatNeverShowsIt() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let wrong = "not-the-password-\(UUID().uuidString)"
        let store = try Self.store(server, password: wrong)
        do {
            try await store.check()
            Issue.record("a wrong password was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("28P01"), "the server's reason, with its code: \(text)")
            #expect(!text.contains(wrong) && !text.contains(server.password))
        }
        let started = ContinuousClock.now
        await #expect(throws: (any Error).self) { try await store.withRunning { try await $0.migrate() } }
        #expect(ContinuousClock.now - started < .seconds(10), "statements fail within their timeout, not the pool's minute")
        try await Self.store(server).check()
    }

    @Test func aStoppedDatabaseFailsStatementsInsteadOfHanging() async throws {
        let server = try PostgresServer()
        let store = try Self.store(server)
        try await store.withRunning { store in
            try await store.migrate()
            server.stop()
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) { try await store.acquire("production", holder: "a", duration: .seconds(15)) }
            #expect(ContinuousClock.now - started < .seconds(15), "a holder learns in time that it cannot renew")
        }
    }
}

/// The coordination URL: a password never belongs in it.
@Suite("Coordination settings")
struct CoordinationSettingsTests {
    @Test func aURLReads() throws {
        let settings = try CoordinationSettings(url: "postgres://pinwheel@db.internal:6432/fleet?sslmode=disable", password: "x")
        #expect(settings.host == "db.internal" && settings.port == 6432 && settings.username == "pinwheel")
        #expect(settings.database == "fleet" && settings.tls == .disable && settings.password == "x")
        #expect(settings.shown == "postgres://pinwheel@db.internal:6432/fleet")
        #expect(try CoordinationSettings(url: "postgresql://p@h/d").tls == .require, "TLS unless told otherwise")
    }

    @Test(arguments: [
        ("postgres://pinwheel:hunter2@db/fleet", "password"),
        ("mysql://pinwheel@db/fleet", "postgres://"),
        ("postgres://db/fleet", "no user"),
        ("postgres://pinwheel@db", "no database"),
        ("postgres://pinwheel@db/fleet?sslmode=verify-full", "sslmode"),
        ("not a url", "postgres://"),
    ])
    func badURLsAreRefused(_ url: String, _ words: String) {
        do {
            _ = try CoordinationSettings(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.description.contains(words), "\(error)")
            #expect(!error.description.contains("hunter2"))
        }
    }
}
