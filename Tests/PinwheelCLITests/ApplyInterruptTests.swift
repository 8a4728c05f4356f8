import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel apply`'s Ctrl-C on a real loopback fleet: a release one host per batch with a ten-minute pause,
/// interrupted by SIGINT while it pauses after the canary. It stops at that safe point, says which hosts it switched
/// and what each serves, exits 130, and the hosts it had not reached still serve the previous version.
@Suite("apply interrupted", .serialized, .tags(.fleet))
struct ApplyInterruptTests {
    static let first = 108

    @Test func theFirstSIGINTStopsAtTheNextSafePointAndSaysWhatEachHostServes() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}

            """)
        let deploy = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config] + fleet.allowIdentityArguments)
        try #require(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")

        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: 10m, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}

            """)
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let out = "\(fleet.directory)/apply.out"
        let err = "\(fleet.directory)/apply.err"
        for path in [out, err] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let apply = Process()
        apply.executableURL = CLIRunner.executable
        apply.arguments = ["apply", "fleet", "--repo", fleet.config] + fleet.allowIdentityArguments
        apply.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        apply.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try apply.run()
        defer { if apply.isRunning { apply.terminate() } }

        // The canary switched and the ten-minute pause began: Ctrl-C.
        try await Self.waitUntil(seconds: 300) { ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").contains("pause 10m before the next batch") }
        kill(apply.processIdentifier, SIGINT)
        // A hang guard, not a speed target: without the interruption it would pause for ten minutes.
        try await Self.waitUntil(seconds: 120) { !apply.isRunning }

        let stdout = try String(contentsOfFile: out, encoding: .utf8)
        let stderr = try String(contentsOfFile: err, encoding: .utf8)
        #expect(apply.terminationStatus == 130, "\(stdout)\(stderr)")
        #expect(stderr.contains("apply: stopping at the next safe point"), "\(stderr)")
        #expect(stderr.contains("apply: interrupted, stopped at the pause stage with 1 host (\(fleet.name(0))) switched and 2 hosts (\(fleet.name(1)), \(fleet.name(2))) not switched"),
                "\(stderr)")
        // Each host's line says what it serves now.
        #expect(stdout.contains(fleet.name(0)) && stdout.contains("hello-service 1.0.0 → 1.1.0"), "\(stdout)")
        let lines = stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix(fleet.name(0)) && $0.contains("changed") }, "\(stdout)")
        for index in 1..<3 {
            #expect(lines.contains { $0.hasPrefix(fleet.name(index)) && $0.contains("interrupted") && $0.contains("serving A") }, "\(stdout)")
        }
        #expect(stdout.contains("2 interrupted"), "\(stdout)")
        #expect(try await fleet.get(0).body.hasPrefix("hello-service 1.1.0"))
        for index in 1..<3 {
            let answer = try await fleet.get(index)
            #expect(answer.body.hasPrefix("hello-service 1.0.0") && answer.slot == "A", "the hosts not reached are untouched")
        }
    }

    static func waitUntil(seconds: Int, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("the condition never held")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
