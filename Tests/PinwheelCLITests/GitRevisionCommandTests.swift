import Foundation
import PinwheelTestSupport
import Testing

/// `validate --rev`, `show --rev` and `diff` read commits through libgit2, with no work tree involved.
@Suite("pinwheel --rev and diff")
struct GitRevisionCommandTests {
    /// A config repository with two commits: the example config, then a release of 1.1.0 into slot B of
    /// `production`, with `active` flipped.
    func repository() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        try git(directory, "init", "-q", "-b", "main")
        try git(directory, "add", "-A")
        try git(directory, "commit", "-qm", "initial config")
        try directory.write("Environments/production/B.txt", "hello-service==1.1.0\n")
        let path = "Environments/production/environment.yaml"
        let text = try String(contentsOfFile: directory.url.appendingPathComponent(path).path, encoding: .utf8)
        try directory.write(path, text.replacingOccurrences(of: "active: A\n", with: "active: B\n"))
        try git(directory, "commit", "-qam", "production: release hello-service 1.1.0")
        return directory
    }

    func git(_ directory: TemporaryDirectory, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", directory.path, "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func diffSaysWhatTheReleaseChanged() throws {
        let repository = try repository()
        let result = try CLIRunner.run(["diff", "production", "--repo", repository.path, "--from", "HEAD~1", "--to", "HEAD"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "slot B: hello-service 1.0.0 → 1.1.0\nactive: A → B\n")
        let none = try CLIRunner.run(["diff", "staging", "--repo", repository.path, "--from", "HEAD~1"])
        #expect(none.stdout == "staging: no change to the desired state\n")
    }

    @Test func showReadsTheCommitNotTheFiles() throws {
        let repository = try repository()
        // Uncommitted edits on disk do not change what --rev reads.
        try repository.write("Environments/production/A.txt", "hello-service==9.9.9\n")
        let before = try CLIRunner.run(["show", "production", "--json", "--repo", repository.path, "--rev", "HEAD~1"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [String: Any])
        #expect(object["active"] as? String == "A")
        let onDisk = try CLIRunner.run(["show", "production", "--repo", repository.path])
        #expect(onDisk.stdout.contains("hello-service==9.9.9"))
        let atHead = try CLIRunner.run(["show", "production", "--repo", repository.path, "--rev", "main"])
        #expect(!atHead.stdout.contains("9.9.9"))
        #expect(atHead.stdout.contains("active:   B"))
    }

    @Test func validateAtACommitReportsThatCommitsErrors() throws {
        let repository = try repository()
        try repository.write("Policies/production.yaml", "rollout: {batch: 0}\n")
        try git(repository, "commit", "-qam", "break the policy")
        let broken = try CLIRunner.run(["validate", "--repo", repository.path, "--rev", "HEAD"])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("Policies/production.yaml:1:18: error: `rollout.batch` must be a number of hosts"))
        #expect(try CLIRunner.run(["validate", "--repo", repository.path, "--rev", "HEAD~1"]).status == 0)
    }

    @Test func unknownRevisionsAndNonRepositoriesAreUsageErrors() throws {
        let repository = try repository()
        let unknown = try CLIRunner.run(["validate", "--repo", repository.path, "--rev", "no-such-branch"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no-such-branch"))
        let plain = try TemporaryDirectory()
        try plain.copyExampleConfig()
        let notGit = try CLIRunner.run(["validate", "--repo", plain.path, "--rev", "HEAD"])
        #expect(notGit.status == 2)
    }

    @Test func diffOfAnEnvironmentThatAppears() throws {
        let repository = try repository()
        try FileManager.default.copyItem(at: repository.url.appendingPathComponent("Environments/staging"),
                                         to: repository.url.appendingPathComponent("Environments/qa"))
        try git(repository, "add", "-A")
        try git(repository, "commit", "-qm", "qa environment")
        let result = try CLIRunner.run(["diff", "qa", "--repo", repository.path, "--from", "HEAD~1"])
        #expect(result.stdout.hasPrefix("environment qa created: active B, 2 hosts\n"))
    }
}
