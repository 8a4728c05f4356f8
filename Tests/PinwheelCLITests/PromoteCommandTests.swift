import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel promote` against a real repository: the repository's own example config, where staging runs
/// hello-service 1.1.0 in slot B and production 1.0.0 in slot A.
@Suite("pinwheel promote")
struct PromoteCommandTests {
    static let identity = ["GIT_AUTHOR_NAME": "Pro Moter", "GIT_AUTHOR_EMAIL": "pro@example.com"]

    func repository() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        for arguments in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "initial config"]] {
            try git(directory, arguments)
        }
        return directory
    }

    @discardableResult
    func git(_ directory: TemporaryDirectory, _ arguments: [String]) throws -> String {
        try Program.run("/usr/bin/git", ["-C", directory.path, "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments)
    }

    @Test func promoteCopiesStagingsPinsIntoTheIdleSlotOnANewBranch() throws {
        let repo = try repository()
        let main = try git(repo, ["rev-parse", "main"])
        let result = try CLIRunner.run(["promote", "production", "--from", "staging", "--branch", "promote-1.1.0", "--repo", repo.path],
                                       environment: Self.identity)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("on promote-1.1.0"))
        #expect(result.stdout.contains("slot B: hello-service 1.0.0 → 1.1.0") && result.stdout.contains("active: A → B"), "\(result.stdout)")
        #expect(try git(repo, ["rev-parse", "main"]) == main, "the checked-out branch does not move")
        #expect(try git(repo, ["log", "-1", "--format=%s", "promote-1.1.0"]) == "production: promote from staging: hello-service 1.1.0")
        #expect(try git(repo, ["log", "-1", "--format=%an", "promote-1.1.0"]) == "Pro Moter")
        #expect(try git(repo, ["diff", "--name-only", "main", "promote-1.1.0"])
            == "Environments/production/B.txt\nEnvironments/production/environment.yaml")
        #expect(try git(repo, ["show", "promote-1.1.0:Environments/production/B.txt"]).hasSuffix("\nhello-service==1.1.0"))
        #expect(try git(repo, ["show", "promote-1.1.0:Environments/production/environment.yaml"]).contains("\nactive: B\n"))
        let valid = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", "promote-1.1.0", "production"])
        #expect(valid.status == 0, "\(valid.stdout)")

        // Promoting again from the promoted branch has nothing to do.
        try git(repo, ["checkout", "-q", "promote-1.1.0"])
        let again = try CLIRunner.run(["promote", "production", "--from", "staging", "--repo", repo.path], environment: Self.identity)
        #expect(again.status == 1 && again.stderr.contains("already pins what staging runs"), "\(again.stderr)")
    }

    @Test func promoteRefusesUnknownAndMismatchedEnvironments() throws {
        let repo = try repository()
        let unknown = try CLIRunner.run(["promote", "production", "--from", "qa", "--repo", repo.path], environment: Self.identity)
        #expect(unknown.status == 2 && unknown.stderr.contains("no environment `qa`"), "\(unknown.stderr)")
        let path = repo.url.appendingPathComponent("Environments/staging/environment.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try repo.write("Environments/staging/environment.yaml", text.replacingOccurrences(of: "python: /usr/bin/python3", with: "python: /usr/bin/python3.12"))
        try git(repo, ["commit", "-qam", "staging on 3.12"])
        let python = try CLIRunner.run(["promote", "production", "--from", "staging", "--repo", repo.path], environment: Self.identity)
        #expect(python.status == 1 && python.stderr.contains("builds slot B with python /usr/bin/python3.12"), "\(python.stderr)")
        #expect(try git(repo, ["log", "-1", "--format=%s"]) == "staging on 3.12", "nothing committed")
    }
}
