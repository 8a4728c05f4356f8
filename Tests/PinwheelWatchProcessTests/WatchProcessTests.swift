import Foundation
import PinwheelTestSupport
import PinwheelFleet
import Testing

/// `pinwheel watch` as a process: killed with SIGKILL in the middle of a rollout and restarted, or stopped with
/// SIGTERM.
@Suite("pinwheel watch as a process", .serialized, .tags(.fleet))
struct WatchProcessTests {
    static let first = 181

    func setUp(pause: String) async throws -> (TestFleet, ConfigRemote) {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: \(pause), maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        return (fleet, try await ConfigRemote(from: fleet.config, in: fleet.directory))
    }

    @Test func aRestartAfterSIGKILLMidRolloutConverges() async throws {
        let (fleet, config) = try await setUp(pause: "8s")
        let cache = "\(fleet.directory)/cache"
        let first = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: cache, log: "\(fleet.directory)/watch1.log")
        try await first.waitFor(.statusCommitted, timeout: .seconds(90))

        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let mark = first.mark
        let release = try await config.commitAndPush("fleet: release 1.1.0")
        // Kill it after the canary switched, in the pause before the next batch.
        try await first.waitFor(.stageStarted, after: mark, where: ["stage": "pause"])
        first.signal(SIGKILL)
        first.process.waitUntilExit()
        #expect(first.process.terminationReason == .uncaughtSignal)
        var serving: [String] = []
        for index in 0..<fleet.hosts {
            var answer = try await fleet.get(index)
            // nginx reloads gracefully: give an old worker a moment to finish.
            for _ in 0..<20 where index == 0 && !answer.body.hasPrefix("hello-service 1.1.0") {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await fleet.get(index)
            }
            #expect(answer.status == 200, "every host serves a healthy slot, switched or not")
            serving.append(answer.body)
        }
        let upstream = (try? String(contentsOfFile: "\(fleet.hostFolder(0))/nginx/pinwheel/hello.conf", encoding: .utf8)) ?? ""
        #expect(serving.filter { $0.hasPrefix("hello-service 1.1.0") }.count == 1,
                "only the canary had switched: \(serving)\n\(upstream)\n\(first.events(since: mark))")

        let second = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: cache, log: "\(fleet.directory)/watch2.log")
        defer { second.signal(SIGKILL); second.process.waitUntilExit() }
        try await second.waitFor(.statusCommitted, where: ["result": "converged", "commit": release])
        let bodies = try await fleet.waitUntilServing("hello-service 1.1.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.1.0") }, "\(bodies)")
        // It observed and carried on: the canary needed nothing more.
        #expect(!second.events(.planned, where: ["hosts": "2/3"]).isEmpty, "\(second.text)")
    }

    @Test func sigtermFinishesTheStepUnderWayAndStops() async throws {
        let (fleet, config) = try await setUp(pause: "8s")
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache", log: "\(fleet.directory)/watch.log")
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let mark = watcher.mark
        try await config.commitAndPush("fleet: release 1.1.0")
        try await watcher.waitFor(.stageStarted, after: mark, where: ["stage": "pause"])
        let signalled = ContinuousClock.now
        watcher.signal(SIGTERM)
        watcher.process.waitUntilExit()
        #expect(ContinuousClock.now - signalled < .seconds(10))
        #expect(watcher.process.terminationStatus == 0, "\(watcher.text)")
        #expect(!watcher.events(.stopped).isEmpty, "\(watcher.text)")
        #expect(watcher.events(.stageStarted, since: mark, where: ["stage": "batch 1"]).isEmpty,
                "no new step after the signal:\n\(watcher.text)")
        for index in 0..<fleet.hosts {
            #expect(try await fleet.get(index).status == 200)
        }
    }

    /// `pinwheel apply` rolls out by the policy exactly as `watch` does: the canary alone, then one host at a time
    /// with the pause between batches.
    @Test func applyFollowsThePolicyOneHostAtATime() async throws {
        let (fleet, _) = try await setUp(pause: "2s")
        let started = ContinuousClock.now
        let apply = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--json"] + fleet.allowIdentityArguments)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(ContinuousClock.now - started >= .seconds(4), "two pauses of 2 s")
        let names = (0..<fleet.hosts).map(fleet.name)
        let stages = apply.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  event["event"] as? String == "stage.started", let stage = event["stage"] as? String,
                  !["prepare", "observe", "idle"].contains(stage) else { return nil }
            let hosts = (event["hosts"] as? [String] ?? []).joined(separator: ",")
            return stage == "pause" ? "pause \(event["seconds"] as? Double ?? 0)" : "\(stage): \(hosts)"
        }
        #expect(stages == [
            "canary: \(names[0])", "pause 2.0",
            "batch 1: \(names[1])", "pause 2.0",
            "batch 2: \(names[2])",
        ], "\(apply.stdout)")
    }

    /// `apply --timings` prints, after the summary, each action it ran with its wall time and the slowest host's
    /// seconds per kind of step, the nginx verification inside `route` on a line of its own; a switch back to a slot
    /// that served is one observe that switched warm.
    @Test func applyTimingsNameEachActionAndStep() async throws {
        let (fleet, _) = try await setUp(pause: "0s")
        func timings(_ kind: String, _ output: String) -> [String] {
            let prefix = "  " + kind.padding(toLength: 8, withPad: " ", startingAt: 0)
            return output.split(separator: "\n").compactMap { line in
                guard line.hasPrefix(prefix) else { return nil }
                let rest = line.dropFirst(prefix.count)
                guard let seconds = rest.range(of: #" +[0-9]+\.[0-9][0-9]s"#, options: .regularExpression) else { return nil }
                return String(rest[..<seconds.lowerBound])
            }
        }
        let deploy = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--quiet", "--timings"] + fleet.allowIdentityArguments)
        #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
        let actions = timings("action", deploy.stdout)
        #expect(actions.first == "observe" && actions.last == "total", "\(deploy.stdout)")
        for name in ["prepare", "switch canary", "switch batch 1", "idle"] {
            #expect(actions.contains(name), "\(name) in \(deploy.stdout)")
        }
        #expect(timings("step", deploy.stdout) == ["prepare", "start", "check", "route", "route: nginx verify"], "\(deploy.stdout)")

        try fleet.setActive(.b)
        let release = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--quiet", "--timings"] + fleet.allowIdentityArguments)
        #expect(release.status == 0, "\(release.stdout)\(release.stderr)")
        #expect(timings("action", release.stdout).first == "observe", "B never served: switched at the policy's pace")
        try fleet.setActive(.a)
        let back = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--quiet", "--timings"] + fleet.allowIdentityArguments)
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(timings("action", back.stdout) == ["observe + warm switch", "total"], "\(back.stdout)")
        #expect(timings("step", back.stdout) == ["verify", "route", "route: nginx verify"], "\(back.stdout)")
    }

    /// A controller running for a month must leave nothing behind: `apply` and `watch` run with a temporary folder
    /// of their own, which must be empty when they exit, and the per-process known-hosts folder is gone too.
    @Test func applyAndWatchLeaveNothingInTheTemporaryFolder() async throws {
        let (fleet, config) = try await setUp(pause: "0s")
        let temporary = "\(fleet.directory)/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        // The private runtime folder the commands use, as they compute it (they inherit this process's environment).
        let controlDirectory = RuntimeFolder.defaultPath()
        // The hosts' keys in the repository itself, as users keep them: ssh gets a copy written once per content.
        try fleet.write("Environments/fleet/known_hosts", try String(contentsOfFile: fleet.knownHosts, encoding: .utf8))
        try fleet.editEnvironment { $0.replacingOccurrences(of: "knownHosts: \(fleet.knownHosts)", with: "knownHosts: known_hosts") }
        try await config.commitAndPush("fleet: known_hosts in the repository")

        let apply = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--quiet"] + fleet.allowIdentityArguments, environment: ["TMPDIR": temporary])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [])

        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache", log: "\(fleet.directory)/watch.log",
                                  environment: ["TMPDIR": temporary])
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))
        try fleet.setActive(.b)
        let mark = watcher.mark
        try await config.commitAndPush("fleet: switch to B")
        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(60))
        let pid = watcher.process.processIdentifier
        func ownFolders(_ pid: Int32) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: controlDirectory).filter { $0.hasPrefix("known-hosts-\(pid)-") }
        }
        #expect(try ownFolders(pid).count == 1, "known-hosts files are written once, in one folder of the process")
        watcher.signal(SIGTERM)
        watcher.process.waitUntilExit()
        #expect(watcher.process.terminationStatus == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [])
        #expect(try ownFolders(pid).isEmpty, "removed at exit")
        #expect(try ownFolders(apply.pid).isEmpty)
    }

    @Test func aPushWebhookTriggersAPollAtOnce() async throws {
        let (fleet, config) = try await setUp(pause: "0s")
        let port = try FreePort.next()
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache", log: "\(fleet.directory)/watch.log",
                                  interval: "1h", extra: ["--listen", "127.0.0.1:\(port)", "--webhook-secret-env", "PINWHEEL_TEST_SECRET"],
                                  environment: ["PINWHEEL_TEST_SECRET": "s3cret-for-tests"])
        defer { watcher.signal(SIGTERM); watcher.process.waitUntilExit() }
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))

        let health = try await Shell.run("curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(port)/healthz"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(health.standardOutput.utf8)) as? [String: Any])
        #expect(report["status"] as? String == "ok")
        #expect((report["environments"] as? [String: String])?["fleet"] == "converged")

        try fleet.setActive(.b)
        let mark = watcher.mark
        let flip = try await config.commitAndPush("fleet: switch to B")
        let wrong = try await Shell.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                 "-H", "Authorization: Bearer wrong", "-d", "{}", "http://127.0.0.1:\(port)/hooks/generic"])
        #expect(wrong.standardOutput == "401")
        let accepted = try await Shell.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                    "-H", "Authorization: Bearer s3cret-for-tests", "-d", "{\"ref\": \"refs/heads/main\"}",
                                                    "http://127.0.0.1:\(port)/hooks/generic"])
        #expect(accepted.standardOutput == "202")
        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(30), where: ["result": "converged", "commit": flip])
        #expect(!watcher.text.contains("s3cret-for-tests"), "the secret never reaches the log")
    }
}
