import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing

/// Issue 18's rows that the command-line tool holds: an applied commit a force-push removed stays in `history`, a
/// credential in a URL never reaches output nor a plain-http remote, text from the status branch cannot drive the
/// terminal.
@Suite("Trust boundary: history, credentials, terminal output", .tags(.security))
struct TrustBoundaryCLITests {
    let repo: TemporaryDirectory

    init() throws {
        repo = try TemporaryDirectory()
        try repo.copyExampleConfig()
    }

    /// Runs the tool off the test's cooperative threads: a blocking wait there starves every async test of the
    /// process on a 2-core machine.
    func pinwheel(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIRunner.Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try CLIRunner.run(arguments, environment: environment) })
            }
        }
    }

    @discardableResult
    func git(_ arguments: [String], date: String = "2026-11-20T10:00:00Z") throws -> String {
        try Program.run("/usr/bin/git", ["-C", repo.path, "-c", "user.name=Alice", "-c", "user.email=alice@example.com",
                                         "-c", "commit.gpgsign=false"] + arguments,
                        environment: ["GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date])
    }

    func edit(_ path: String, _ change: (String) -> String) throws {
        let text = try String(contentsOfFile: repo.path + "/" + path, encoding: .utf8)
        try repo.write(path, change(text))
    }

    /// Records on the status branch what the controller would: `result` for `desired`.
    func recordStatus(_ desired: String, _ result: EnvironmentStatus.Result, message: String = "", seconds: TimeInterval) throws {
        let repository = try Repository(openingAt: repo.path)
        let status = EnvironmentStatus(environment: "production", desired: desired, result: result, message: message,
                                       time: "2026-11-20T11:00:00Z", active: .b, pins: [], hosts: [:])
        try repository.commit(changes: [.write(EnvironmentStatus.path(of: "production"), Data(try status.yaml().utf8))],
                              onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage,
                              author: Signature(name: "Pinwheel", email: "pinwheel@example.com", date: Date(timeIntervalSince1970: seconds)))
    }

    /// main: the initial config, a release the controller applied, then a force-push that replaced the release
    /// with another change.
    func forcePushedAwayRelease() throws -> (applied: String, replacement: String) {
        try git(["init", "-q", "-b", "main"])
        try git(["add", "-A"])
        try git(["commit", "-qm", "initial config"], date: "2026-11-01T10:00:00Z")
        let initial = try git(["rev-parse", "HEAD"])
        try edit("Environments/production/B.txt") { $0.replacingOccurrences(of: "hello-service==1.0.0", with: "hello-service==1.1.0") }
        try edit("Environments/production/environment.yaml") { $0.replacingOccurrences(of: "active: A", with: "active: B") }
        try git(["commit", "-qam", "production: release hello-service 1.1.0"], date: "2026-11-20T10:00:00Z")
        let applied = try git(["rev-parse", "HEAD"])
        try recordStatus(applied, .converged, seconds: 1_795_000_000)
        // The force-push: main rewritten to a different change; the applied release is on no branch any more.
        try git(["reset", "-q", "--hard", initial])
        try edit("Environments/production/environment.yaml") { $0.replacingOccurrences(of: "active: A", with: "active: B") }
        try git(["commit", "-qam", "production: switch to B"], date: "2026-11-21T10:00:00Z")
        let replacement = try git(["rev-parse", "HEAD"])
        try recordStatus(replacement, .refused, message: "history rewritten", seconds: 1_795_100_000)
        return (applied, replacement)
    }

    @Test func anAppliedCommitAForcePushRemovedStillAppearsInHistory() async throws {
        let (applied, replacement) = try forcePushedAwayRelease()
        let text = try await pinwheel(["history", "production", "--repo", repo.path])
        #expect(text.status == 0, "\(text.stderr)")
        let blocks = text.stdout.components(separatedBy: "\n\n")
        let lost = try #require(blocks.first { $0.hasPrefix(String(applied.prefix(10))) }, "\(text.stdout)")
        // The object is still in this repository: its summary is shown, marked.
        #expect(lost.contains("production: release hello-service 1.1.0  [rewritten away]"), "\(lost)")
        #expect(lost.contains("converged"))
        #expect(blocks.contains { $0.hasPrefix(String(replacement.prefix(10))) })
        // Newest first: the replacement (Nov 21), the lost release (Nov 20), the initial config (Nov 1).
        #expect(blocks.count == 3 && blocks[1].hasPrefix(String(applied.prefix(10))), "\(text.stdout)")

        // Through a fresh clone the object is gone; the record alone still names it.
        let tmp = try TemporaryDirectory()
        let json = try await pinwheel(["history", "production", "--repo", "file://" + repo.path, "--json"], environment: ["TMPDIR": tmp.path])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        let entry = try #require(entries.first { $0["commit"] as? String == applied }, "\(json.stdout)")
        #expect(entry["rewrittenAway"] as? Bool == true)
        #expect((entry["applied"] as? [[String: Any]])?.first?["result"] as? String == "converged")
        #expect(entries.filter { $0["rewrittenAway"] as? Bool == true }.count == 1, "a refused commit was never applied")
    }

    @Test func aTokenInTheRepositoryURLNeverReachesOutputNorAPlainHTTPRemote() async throws {
        let token = "ghp_cliS3cr3tT0k3n"
        let tmp = try TemporaryDirectory()
        let result = try await pinwheel(["history", "production", "--repo", "http://x-access-token:\(token)@192.0.2.1/config.git"],
                                       environment: ["TMPDIR": tmp.path])
        #expect(result.status != 0)
        #expect(!result.stdout.contains(token) && !result.stderr.contains(token), "\(result.stderr)")
        #expect(result.stderr.contains("http://***@192.0.2.1/config.git"), "\(result.stderr)")
        #expect(result.stderr.contains("refused to send credentials over plain http://"), "\(result.stderr)")

        // watch refuses a token over plain http:// before it starts.
        let watch = try await pinwheel(["watch", "--repo", "http://git.example.com/config.git", "--git-token-env", "GIT_TOKEN"],
                                      environment: ["GIT_TOKEN": token])
        #expect(watch.status != 0)
        #expect(watch.stderr.contains("a token is never sent over plain http://"), "\(watch.stderr)")
        #expect(!watch.stderr.contains(token))
    }

    @Test func statusTextFromTheStatusBranchCannotDriveTheTerminal() async throws {
        try git(["init", "-q", "-b", "main"])
        try git(["add", "-A"])
        try git(["commit", "-qm", "initial config"])
        let head = try git(["rev-parse", "HEAD"])
        // A host's error as the status recorded it: a screen clear, a color, a carriage return and a bidi override.
        try recordStatus(head, .halted, message: "web-01: \u{1B}[2J\u{1B}[31mfine\rall good\u{202E}", seconds: 1_795_000_000)
        let result = try await pinwheel(["status", "production", "--repo", repo.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1B}") && !result.stdout.contains("\r") && !result.stdout.contains("\u{202E}"))
        #expect(result.stdout.contains("web-01: \\u{1B}[2J\\u{1B}[31mfine\\rall good\\u{202E}"), "\(result.stdout)")
    }

    /// `curl -si` against the control server, off the cooperative threads: the status line, headers and body.
    func fetch(_ port: Int, _ path: String, token: String? = nil) async throws -> String {
        let arguments = ["-si", "--max-time", "20"] + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? [])
            + ["http://127.0.0.1:\(port)\(path)"]
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Program.run("/usr/bin/curl", arguments) })
            }
        }
    }

    @Test func watchRedactsTheRepositoryTokenAndGuardsItsPageAndMetrics() async throws {
        let token = "ghp_watchT0k3nInURL"
        let pageToken = "page-t0ken-for-watch"
        let port = try FreePort.next()
        let folder = try TemporaryDirectory()
        let log = folder.path + "/watch.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = CLIRunner.executable
        // Port 9 on loopback: nothing listens, every poll fails and is logged with the URL in its error.
        process.arguments = ["watch", "--repo", "http://x-access-token:\(token)@127.0.0.1:9/config\u{1B}[31m.git",
                             "--cache", folder.path + "/cache", "--interval", "200ms",
                             "--listen", "127.0.0.1:\(port)", "--access-token-env", "PAGE_TOKEN"]
        process.environment = ProcessInfo.processInfo.environment.merging(["PAGE_TOKEN": pageToken]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        defer { kill(process.processIdentifier, SIGTERM) }
        var text = ""
        // Generous: a debug binary starting on a loaded machine (tests in parallel on 2 cores) can take long.
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("msg=watching"), text.contains("level=error") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(text.contains("msg=watching"), "\(text)")
        #expect(text.contains("level=error"), "a failed poll is logged: \(text)")
        #expect(!text.contains(token), "\(text)")
        #expect(text.contains("http://***@127.0.0.1:9/config\\u{1B}[31m.git"), "\(text)")
        #expect(!text.contains("\u{1B}"), "no raw escape reaches the log")

        // The real controller's control server: /healthz shows the failing poll without the token; the page and
        // /metrics need the page's token; every answer carries the security headers.
        // The server may start listening just after the first log lines: asked again until it answers.
        var health = ""
        let listening = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < listening {
            health = (try? await fetch(port, "/healthz")) ?? ""
            if health.contains("lastError") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(health.contains("lastError"), "\(health)")
        #expect(!health.contains(token), "\(health)")
        #expect(health.contains("***@127.0.0.1"), "\(health)")
        let anonymous = try await fetch(port, "/metrics")
        #expect(anonymous.hasPrefix("HTTP/1.1 401"), "\(anonymous)")
        #expect(!anonymous.contains("pinwheel_"))
        let page = try await fetch(port, "/")
        #expect(page.hasPrefix("HTTP/1.1 401"), "\(page)")
        let metrics = try await fetch(port, "/metrics", token: pageToken)
        #expect(metrics.hasPrefix("HTTP/1.1 200"), "\(metrics.prefix(300))")
        #expect(metrics.contains("pinwheel_"))
        for answer in [health, anonymous, page, metrics] {
            #expect(answer.lowercased().contains("content-security-policy: default-src 'none'"), "\(answer.prefix(400))")
            #expect(answer.lowercased().contains("x-content-type-options: nosniff"))
        }
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!logged.contains(pageToken), "the page's token never reaches the log")
        kill(process.processIdentifier, SIGTERM)
        // Waited for without blocking a cooperative thread.
        let stopBy = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < stopBy { try await Task.sleep(for: .milliseconds(100)) }
    }
}
