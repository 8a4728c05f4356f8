import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing

/// `release`, `rollback`, `history` and `status` against real repositories.
@Suite("pinwheel release, rollback, history, status")
struct GitCommandTests {
    static let identity = ["GIT_AUTHOR_NAME": "Rel Easer", "GIT_AUTHOR_EMAIL": "rel@example.com"]

    /// The example config committed on main, with a comment on the `active:` line of production.
    func repository() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        let path = "Environments/production/environment.yaml"
        let text = try String(contentsOfFile: directory.url.appendingPathComponent(path).path, encoding: .utf8)
        try directory.write(path, text.replacingOccurrences(of: "active: A\n", with: "active: A   # live slot\n"))
        try git(directory, "init", "-q", "-b", "main")
        try git(directory, "add", "-A")
        try git(directory, "commit", "-qm", "initial config")
        return directory
    }

    @discardableResult
    func git(_ directory: TemporaryDirectory, _ arguments: String...) throws -> String {
        try Program.run("/usr/bin/git", ["-C", directory.path, "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments)
    }

    func run(_ arguments: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(arguments, environment: Self.identity)
    }

    func show(_ directory: TemporaryDirectory, _ spec: String) throws -> String {
        try git(directory, "show", spec)
    }

    // MARK: release

    @Test func releaseCommitsTheIdleSlotAndFlipsActive() throws {
        let repo = try repository()
        let result = try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("slot B: hello-service 1.0.0 → 1.1.0"))
        #expect(result.stdout.contains("active: A → B"))
        #expect(try git(repo, "log", "-1", "--format=%s") == "production: release hello-service 1.1.0")
        #expect(try git(repo, "log", "-1", "--format=%an <%ae>") == "Rel Easer <rel@example.com>")
        #expect(try git(repo, "diff", "--name-only", "HEAD~1", "HEAD") == "Environments/production/B.txt\nEnvironments/production/environment.yaml")
        #expect(try show(repo, "HEAD:Environments/production/B.txt").hasSuffix("\nhello-service==1.1.0"))
        #expect(try show(repo, "HEAD:Environments/production/environment.yaml").contains("active: B   # live slot\n"))
        // The work tree follows the commit.
        #expect(try git(repo, "status", "--porcelain") == "")
        #expect(try run(["validate", "--repo", repo.path]).status == 0)
    }

    @Test func releaseToANewBranchLeavesTheCurrentOneAlone() throws {
        let repo = try repository()
        let head = try git(repo, "rev-parse", "HEAD")
        let result = try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path, "--branch", "release/1.1.0",
                              "--message", "ship it"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try git(repo, "rev-parse", "HEAD") == head)
        #expect(try git(repo, "rev-parse", "release/1.1.0~1") == head)
        #expect(try git(repo, "log", "-1", "--format=%s", "release/1.1.0") == "ship it")
        #expect(try git(repo, "status", "--porcelain") == "")
        let again = try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path, "--branch", "release/1.1.0"])
        #expect(again.status == 2)
    }

    @Test func releaseRefusesUnknownPackagesAndBadVersions() throws {
        let repo = try repository()
        let head = try git(repo, "rev-parse", "HEAD")
        let unknown = try run(["release", "production", "flask==3.0.0", "--repo", repo.path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("flask is not pinned in production's active slot A"))
        let bad = try run(["release", "production", "hello-service==one", "--repo", repo.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("not a valid version"))
        #expect(try git(repo, "rev-parse", "HEAD") == head)
    }

    @Test func releaseRefusesWhenTheWorkTreeHasChangesToThoseFiles() throws {
        let repo = try repository()
        let head = try git(repo, "rev-parse", "HEAD")
        try repo.write("Environments/production/B.txt", "hello-service==9.9.9\n")
        let result = try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("uncommitted changes to: Environments/production/B.txt"))
        #expect(try git(repo, "rev-parse", "HEAD") == head)
    }

    // MARK: rollback

    @Test func rollbackRevertsTheEnvironmentsNewestChange() throws {
        let repo = try repository()
        #expect(try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path]).status == 0)
        let release = try git(repo, "rev-parse", "HEAD")
        // A later change to another environment must not be the one reverted.
        #expect(try run(["release", "staging", "hello-service==2.0.0", "--repo", repo.path]).status == 0)
        let result = try run(["rollback", "production", "--repo", repo.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("active: B → A"))
        #expect(try git(repo, "log", "-1", "--format=%B").contains("This reverts commit \(release)."))
        #expect(try show(repo, "HEAD:Environments/production/environment.yaml").contains("active: A   # live slot"))
        #expect(try show(repo, "HEAD:Environments/staging/environment.yaml").contains("active: A"))
        #expect(try git(repo, "status", "--porcelain") == "")
    }

    @Test func rollbackOfANamedCommit() throws {
        let repo = try repository()
        #expect(try run(["release", "staging", "hello-service==2.0.0", "--repo", repo.path]).status == 0)
        let staging = try git(repo, "rev-parse", "HEAD")
        #expect(try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path]).status == 0)
        let result = try run(["rollback", "staging", "--repo", repo.path, "--to", String(staging.prefix(8))])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try git(repo, "log", "-1", "--format=%B").contains(staging))
        #expect(try show(repo, "HEAD:Environments/production/environment.yaml").contains("active: B"))
    }

    @Test func rollbackConflictIsAClearErrorAndCommitsNothing() throws {
        let repo = try repository()
        #expect(try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path]).status == 0)
        let release = try git(repo, "rev-parse", "HEAD")
        // A later hand edit of the same line.
        try repo.write("Environments/production/B.txt", "hello-service==1.2.0\n")
        try git(repo, "commit", "-qam", "production: 1.2.0 by hand")
        let head = try git(repo, "rev-parse", "HEAD")
        let result = try run(["rollback", "production", "--repo", repo.path, "--to", release])
        #expect(result.status == 1)
        #expect(result.stderr.contains("conflicts"))
        #expect(result.stderr.contains("Environments/production/"))
        #expect(try git(repo, "rev-parse", "HEAD") == head)
        #expect(try git(repo, "for-each-ref", "refs/pinwheel") == "")
    }

    // MARK: history and status

    /// Commits status records for `desired` on pinwheel/status through PinwheelGit.
    func recordStatus(_ repo: TemporaryDirectory, environment: String, desired: String, result: EnvironmentStatus.Result,
                      healthy: Bool, date: Date, message: String = "observed", quarantined: [String] = [],
                      branch: String = EnvironmentStatus.defaultBranch) throws {
        let repository = try Repository(openingAt: repo.path)
        var status = EnvironmentStatus(environment: environment, desired: desired, result: result, message: message,
                                       time: "2025-01-01T00:00:00Z", active: .b, pins: ["hello-service==1.1.0"],
                                       hosts: ["web-01": .init(serving: .b, slots: [:], healthy: true),
                                               "web-02": .init(serving: healthy ? .b : nil, slots: [:], healthy: healthy,
                                                               error: healthy ? nil : "connection refused")])
        status.quarantined = quarantined
        try repository.commit(changes: [.write(EnvironmentStatus.path(of: environment), Data(try status.yaml().utf8))],
                              onBranch: branch, message: status.commitMessage,
                              author: Signature(name: "Pinwheel", email: "pinwheel@example.com", date: date))
    }

    @Test func historyListsChangesNewestFirstWithWhatWasApplied() throws {
        let repo = try repository()
        #expect(try run(["release", "production", "hello-service==1.1.0", "--repo", repo.path]).status == 0)
        let first = try git(repo, "rev-parse", "HEAD")
        #expect(try run(["release", "staging", "hello-service==2.0.0", "--repo", repo.path]).status == 0)
        #expect(try run(["rollback", "production", "--repo", repo.path]).status == 0)
        try recordStatus(repo, environment: "production", desired: first, result: .degraded, healthy: false,
                         date: Date(timeIntervalSince1970: 1_700_000_000))
        try recordStatus(repo, environment: "production", desired: first, result: .converged, healthy: true,
                         date: Date(timeIntervalSince1970: 1_700_000_100))
        try recordStatus(repo, environment: "staging", desired: first, result: .halted, healthy: false,
                         date: Date(timeIntervalSince1970: 1_700_000_200))

        let text = try run(["history", "production", "--repo", repo.path])
        #expect(text.status == 0, "\(text.stderr)")
        let blocks = text.stdout.components(separatedBy: "\n\n")
        try #require(blocks.count == 3, "\(text.stdout)")
        #expect(blocks[0].contains("Revert \"production: release hello-service 1.1.0\""))
        #expect(blocks[0].contains("- slot B: hello-service 1.1.0 → 1.0.0"))
        #expect(blocks[1].contains("production: release hello-service 1.1.0"))
        #expect(blocks[1].contains("- active: A → B"))
        #expect(blocks[1].contains("author:    Rel Easer <rel@example.com>"))
        #expect(blocks[1].contains("converged  2/2 hosts"))
        #expect(blocks[1].contains("degraded  1/2 hosts"))
        #expect(!blocks[1].contains("halted"))
        #expect(blocks[2].contains("initial config"))
        #expect(blocks[2].contains("environment production created"))

        let limited = try run(["history", "production", "--repo", repo.path, "--limit", "1", "--json"])
        #expect(limited.status == 0, "\(limited.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [String: Any])
        #expect(object["environment"] as? String == "production")
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect((entries[0]["author"] as? [String: Any])?["email"] as? String == "rel@example.com")
        #expect(entries[0]["changes"] as? [String] != nil)
        #expect((entries[0]["applied"] as? [Any])?.isEmpty == true)

        let json = try run(["history", "production", "--repo", repo.path, "--json"])
        let all = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let applied = try #require(((all["entries"] as? [[String: Any]])?[1]["applied"]) as? [[String: Any]])
        #expect(applied.map { $0["result"] as? String } == ["converged", "degraded"])
        #expect(applied[0]["hosts"] as? Int == 2 && applied[0]["healthyHosts"] as? Int == 2)
    }

    @Test func historyOfAnEnvironmentWithNoHistory() throws {
        let repo = try repository()
        let result = try run(["history", "nowhere", "--repo", repo.path])
        #expect(result.status == 0)
        #expect(result.stdout == "nowhere: no change on main\n")
    }

    @Test func statusReadsTheNewestStatusFile() throws {
        let repo = try repository()
        let none = try run(["status", "production", "--repo", repo.path])
        #expect(none.status == 1)
        #expect(none.stderr.contains("production has no status yet"))
        let head = try git(repo, "rev-parse", "HEAD")
        try recordStatus(repo, environment: "production", desired: head, result: .converged, healthy: true,
                         date: Date(timeIntervalSince1970: 1_700_000_000))
        try recordStatus(repo, environment: "production", desired: head, result: .degraded, healthy: false,
                         date: Date(timeIntervalSince1970: 1_700_000_100))
        let result = try run(["status", "production", "--repo", repo.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("result:    degraded"))
        #expect(result.stdout.contains("desired:   \(head)"))
        #expect(result.stdout.contains("web-02  serving -  unhealthy  error: connection refused"))
        let json = try run(["status", "production", "--repo", repo.path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["status"] as? [String: Any])?["result"] as? String == "degraded")
        #expect(try run(["status", "staging", "--repo", repo.path]).status == 1)
    }

    @Test func statusPrintsAWaitingMessageAsIsAndTheQuarantinedCommits() throws {
        let repo = try repository()
        let head = try git(repo, "rev-parse", "HEAD")
        let broken = String(repeating: "9", count: 40)
        let message = "waiting for the window at 2026-11-23T07:00:00Z (deny fri,sat,sun 16:00-08:00 Europe/Berlin)"
        try recordStatus(repo, environment: "production", desired: head, result: .waiting, healthy: true,
                         date: Date(timeIntervalSince1970: 1_700_000_000), message: message, quarantined: [broken])
        let result = try run(["status", "production", "--repo", repo.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("result:    waiting"))
        #expect(result.stdout.contains("message:   \(message)\n"))
        #expect(result.stdout.contains("quarantined: \(broken)"))
        #expect(result.stdout.hasPrefix("production: waiting at \(head.prefix(7)) — \(message)\n"))
    }
}
