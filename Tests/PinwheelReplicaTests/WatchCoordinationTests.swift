import Foundation
import Logging
import PinwheelCoordination
import PinwheelTestSupport
import Testing

/// `watch --coordination` as a user runs it: bad options are refused before anything starts, a database that refuses
/// the login stops it at once with the database's reason (never the password), and a replica that is stopped with
/// SIGTERM leaves the store so the others take over at once.
@Suite("pinwheel watch --coordination", .serialized)
struct WatchCoordinationTests {
    @Test func aPasswordInTheURLAndUnsafeTimingsAreRefused() throws {
        let withPassword = try CLIRunner.run(["watch", "--repo", "/nonexistent", "--coordination", "postgres://pinwheel:hunter2@db.internal/pinwheel"])
        #expect(withPassword.status == 2)
        #expect(withPassword.stderr.contains("--coordination-password-file") && !withPassword.stderr.contains("hunter2"), "\(withPassword.stderr)")

        let unsafe = try CLIRunner.run(["watch", "--repo", "/nonexistent", "--coordination", "postgres://pinwheel@db.internal/pinwheel",
                                        "--lease-duration", "10s", "--renew-deadline", "10s"])
        #expect(unsafe.status == 2)
        #expect(unsafe.stderr.contains("at most 90% of the lease duration"), "\(unsafe.stderr)")

        let alone = try CLIRunner.run(["watch", "--repo", "/nonexistent", "--replica", "a"])
        #expect(alone.status == 2)
        #expect(alone.stderr.contains("go with --coordination"), "\(alone.stderr)")
    }

    @Test func aRefusedLoginStopsItWithTheDatabasesReason() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let folder = try TemporaryDirectory()
        let wrong = "not-the-password-\(UUID().uuidString)"
        try folder.write("password", wrong + "\n")
        let refused = try CLIRunner.run(["watch", "--repo", folder.path + "/config", "--cache", folder.path + "/cache",
                                         "--coordination", server.url, "--coordination-password-file", folder.path + "/password"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("password authentication failed"), "\(refused.stderr)")
        #expect(!refused.stderr.contains(wrong))
    }

    @Test func aReplicaStoppedWithSIGTERMLeavesTheStore() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let folder = try TemporaryDirectory()
        let process = Process()
        process.executableURL = CLIRunner.executable
        process.arguments = ["watch", "--repo", folder.path + "/config", "--cache", folder.path + "/cache", "--coordination", server.url,
                             "--replica", "cli-replica", "--lease-duration", "2s", "--renew-deadline", "1200ms", "--retry-period", "300ms"]
        process.environment = ProcessInfo.processInfo.environment.merging(["PINWHEEL_COORDINATION_PASSWORD": server.password]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        let log = folder.url.appendingPathComponent("log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let settings = try CoordinationSettings(url: server.url, password: server.password)
        let store = PostgresCoordination(settings: settings, logger: Logger(label: "test"), statementTimeout: .seconds(30))
        try await store.withRunning { store in
            var joined = false
            for _ in 0..<100 where !joined {
                joined = (try? await store.liveReplicas(within: .seconds(10)))?.contains("cli-replica") == true
                if !joined { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(joined, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(try await store.liveReplicas(within: .seconds(10)).isEmpty, "it left: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("coordinating") && text.contains("left the coordination store"), "\(text)")
        #expect(!text.contains(server.password))
    }
}
