import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing

/// `pinwheel apply --json` and `pinwheel watch --log-format json` as a CI job or a log shipper reads them: one JSON
/// object per line, from a real apply and a real controller on a loopback fleet.
@Suite("JSON event streams", .serialized, .tags(.fleet))
struct EventStreamTests {
    static let first = 71

    func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func applyStreamsItsEventsAndTheControllerLogsJSON() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}

            """)
        let names = (0..<fleet.hosts).map(fleet.name)
        let apply = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--json"] + fleet.allowIdentityArguments)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stderr.isEmpty, "no progress text with --json: \(apply.stderr)")
        let lines = try objects(apply.stdout)
        #expect(lines.allSatisfy { $0["v"] as? Int == 1 })
        let events = lines.compactMap { $0["event"] as? String }
        #expect(events.first == "apply.started")
        #expect(events.last == "apply.finished")
        #expect(events.filter { $0 == "host.observed" }.count == 2)
        // The stages in order, each host started before it finished, and the rollout's result before the summary.
        let stages = lines.filter { $0["event"] as? String == "stage.started" }.compactMap { $0["stage"] as? String }
        #expect(stages == ["observe", "prepare", "canary", "batch 1", "idle"])
        for stage in ["prepare", "canary", "batch 1"] {
            let started = lines.firstIndex { $0["event"] as? String == "stage.started" && $0["stage"] as? String == stage }!
            let hosts = lines[started]["hosts"] as? [String] ?? []
            #expect(!hosts.isEmpty)
            for host in hosts {
                let begun = try #require(lines.firstIndex { $0["event"] as? String == "host.started" && $0["host"] as? String == host && $0["stage"] as? String == stage })
                let done = try #require(lines.firstIndex { $0["event"] as? String == "host.finished" && $0["host"] as? String == host && $0["stage"] as? String == stage })
                #expect(started < begun && begun < done)
                #expect(lines[done]["ok"] as? Bool == true)
                #expect((lines[done]["steps"] as? [[String: Any]])?.isEmpty == false)
            }
        }
        let canary = lines.first { $0["event"] as? String == "stage.started" && $0["stage"] as? String == "canary" }
        #expect(canary?["hosts"] as? [String] == [names[0]])
        let rollout = try #require(lines.first { $0["event"] as? String == "rollout.finished" })
        #expect(rollout["result"] as? String == "converged")
        let finished = try #require(lines.last)
        #expect(finished["exit"] as? Int == 0)
        #expect(finished["result"] as? String == "converged")
        let hosts = try #require(finished["hosts"] as? [[String: Any]])
        #expect(hosts.compactMap { $0["host"] as? String } == names)
        #expect(hosts.allSatisfy { $0["outcome"] as? String == "changed" && $0["routed"] as? String == "A" })

        // Without --json and without a terminal: the plain lines, as before.
        let again = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config] + fleet.allowIdentityArguments)
        #expect(again.status == 0)
        #expect(again.stderr.contains("\(names[0]): matches"))
        #expect(!again.stderr.contains("\u{1B}["), "no escape codes when not on a terminal")

        // The controller, logging JSON: every line of its log parses, and says what happened.
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        // A release for the controller to roll out (apply already made the hosts match the first commit).
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        try await config.commitAndPush("fleet: release hello-service 1.1.0")
        let log = "\(fleet.directory)/watch.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let watch = Process()
        watch.executableURL = CLIRunner.executable
        watch.arguments = ["watch", "--repo", config.remote, "--interval", "200ms", "--cache", "\(fleet.directory)/cache",
                           "--log-format", "json", "--notify", "webhook=env:PINWHEEL_TEST_UNSET_HOOK"] + fleet.allowIdentityArguments
        watch.standardOutput = FileHandle.nullDevice
        watch.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try watch.run()
        let deadline = ContinuousClock.now + .seconds(90)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(#""event":"status.committed""#),
              ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(watch.processIdentifier, SIGTERM)
        watch.waitUntilExit()
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let entries = try objects(text)
        #expect(entries.count > 3)
        #expect(entries.allSatisfy { $0["time"] is String && $0["level"] is String && $0["msg"] is String })
        let committed = try #require(entries.first { $0["event"] as? String == ControllerEvent.statusCommitted.rawValue }, "\(text)")
        #expect(committed["env"] as? String == "fleet")
        #expect(entries.last?["event"] as? String == ControllerEvent.stopped.rawValue)
        // --notify reached the controller: the rollout's events went to the target, whose variable is not set.
        let notSent = entries.filter { $0["event"] as? String == ControllerEvent.notificationFailed.rawValue }
        #expect(notSent.contains { $0["notification"] as? String == "started" })
        #expect(notSent.contains { $0["notification"] as? String == "converged" })
        #expect(notSent.allSatisfy { $0["target"] as? String == "webhook (env PINWHEEL_TEST_UNSET_HOOK)"
                && $0["error"] as? String == "env PINWHEEL_TEST_UNSET_HOOK is not set in the controller's environment" })
        #expect(watch.terminationStatus == 0)
    }

    @Test func watchRefusesANotificationURLOnItsCommandLine() throws {
        let result = try CLIRunner.run(["watch", "--repo", "/nonexistent", "--notify", "slack=https://hooks.slack.com/services/T/B/SECRETTOKEN"])
        #expect(result.status == 2, "a usage error")
        #expect(result.stderr.contains("never given on the command line"), "\(result.stderr)")
        #expect(!result.stderr.contains("SECRETTOKEN"))
        let statusURL = try CLIRunner.run(["watch", "--repo", "/nonexistent", "--status-url", "https://user:pw@pinwheel.example.com"])
        #expect(statusURL.status == 2)
        #expect(statusURL.stderr.contains("--status-url must be an http:// or https:// address without credentials"))
    }
}
