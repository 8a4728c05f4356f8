import Foundation
import PinwheelTestSupport
import PinwheelCore
import Testing

/// What every command shares: `--status-branch` (and `status --branch`, its old name), the exit statuses, and each
/// command's whole description in its own help.
@Suite("pinwheel's shared options, exit statuses and help")
struct CommandOptionsTests {
    let git = GitCommandTests()

    // MARK: --status-branch

    @Test func statusReadsTheStatusBranchByEitherName() throws {
        let repo = try git.repository()
        let head = try git.git(repo, "rev-parse", "HEAD")
        try git.recordStatus(repo, environment: "production", desired: head, result: .degraded, healthy: false,
                             date: Date(timeIntervalSince1970: 1_700_000_000), branch: "ops/status")
        let byName = try git.run(["status", "production", "--repo", repo.path, "--status-branch", "ops/status"])
        #expect(byName.status == 0, "\(byName.stderr)")
        #expect(byName.stdout.contains("result:    degraded"))
        #expect(byName.stderr.isEmpty, "\(byName.stderr)")

        // The old name reads the same branch, and says it is the old name.
        let byOldName = try git.run(["status", "production", "--repo", repo.path, "--branch", "ops/status"])
        #expect(byOldName.status == 0, "\(byOldName.stderr)")
        #expect(byOldName.stdout == byName.stdout)
        #expect(byOldName.stderr.contains("`status --branch` is now `--status-branch`"), "\(byOldName.stderr)")

        // The default branch has no status of it; both names, disagreeing, are a usage error.
        let byDefault = try git.run(["status", "production", "--repo", repo.path])
        #expect(byDefault.status == 1 && byDefault.stderr.contains("production has no status yet"), "\(byDefault.stderr)")
        let both = try git.run(["status", "production", "--repo", repo.path, "--branch", "ops/status", "--status-branch", "other"])
        #expect(both.status == 2 && both.stderr.contains("give only --status-branch"), "\(both.stderr)")
        let agreeing = try git.run(["status", "production", "--repo", repo.path, "--branch", "ops/status", "--status-branch", "ops/status"])
        #expect(agreeing.status == 0, "\(agreeing.stderr)")
    }

    @Test func theOldNameIsHiddenFromTheHelp() throws {
        let help = try CLIRunner.run(["status", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--status-branch <branch>"), "\(help.stdout)")
        #expect(!help.stdout.contains("--branch <"), "\(help.stdout)")
    }

    @Test func everyCommandThatReadsTheStatusBranchCallsItTheSame() throws {
        for command in ["apply", "history", "promote", "status", "watch"] {
            let help = try CLIRunner.run([command, "--help"])
            #expect(help.status == 0, "\(command)")
            #expect(help.stdout.contains("--status-branch <branch>"), "\(command): \(help.stdout)")
            #expect(help.stdout.contains("The branch the controller records statuses on."), "\(command)")
        }
    }

    // MARK: exit statuses

    @Test func aUsageErrorExitsTwoSayingError() throws {
        let missing = try CLIRunner.run(["status", "production", "--repo", "/nonexistent/config"])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("pinwheel: error: "), "\(missing.stderr)")
        let unknownOption = try CLIRunner.run(["show", "production", "--no-such-option"])
        #expect(unknownOption.status == 2, "\(unknownOption.stderr)")
        #expect(unknownOption.stderr.hasPrefix("pinwheel: error: Unknown option '--no-such-option'"), "\(unknownOption.stderr)")
        // A mistake a command's validate() finds is the same ExitError as any other, said with the command's usage.
        let badLimit = try CLIRunner.run(["history", "production", "--limit", "0"])
        #expect(badLimit.status == 2, "\(badLimit.stderr)")
        #expect(badLimit.stderr.hasPrefix("pinwheel: error: --limit must be at least 1\nUsage: pinwheel history "), "\(badLimit.stderr)")
        #expect(badLimit.stderr.contains("See 'pinwheel help history' for more information."), "\(badLimit.stderr)")
        let groupMistake = try CLIRunner.run(["watch", "--repo", "/nonexistent", "--prometheus-token-env", "TOKEN"])
        #expect(groupMistake.status == 2, "\(groupMistake.stderr)")
        #expect(groupMistake.stderr.hasPrefix("pinwheel: error: --prometheus-token-file and --prometheus-token-env are for --prometheus"),
                "\(groupMistake.stderr)")
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        let unknownEnvironment = try CLIRunner.run(["show", "nowhere", "--repo", directory.path])
        #expect(unknownEnvironment.status == 2 && unknownEnvironment.stderr.hasPrefix("pinwheel: error: "), "\(unknownEnvironment.stderr)")
        let noHost = try CLIRunner.run(["logs", "production", "--repo", directory.path, "--host", "web-99"])
        #expect(noHost.status == 2 && noHost.stderr.contains("has no host `web-99`"), "\(noHost.stderr)")
    }

    @Test func anInvalidConfigOrAFailedOperationExitsOne() throws {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        try directory.write("Environments/staging/B.txt", "hello-service>=1.0\n")
        let invalid = try CLIRunner.run(["validate", "--repo", directory.path])
        #expect(invalid.status == 1)
        #expect(invalid.stdout.contains("Environments/staging/B.txt:1:"), "\(invalid.stdout)")
        #expect(invalid.stderr == "pinwheel: 1 error found\n", "\(invalid.stderr)")
        let plan = try CLIRunner.run(["plan", "staging", "--repo", directory.path])
        #expect(plan.status == 1 && plan.stderr.contains("pinwheel: staging is not valid; nothing was done"), "\(plan.stderr)")

        let repo = try git.repository()
        let refused = try git.run(["release", "production", "not-pinned==1.0", "--repo", repo.path])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("pinwheel: ") && !refused.stderr.hasPrefix("pinwheel: error: "), "\(refused.stderr)")
    }

    // MARK: help

    @Test func everyCommandsHelpHasItsWholeDescription() throws {
        let commands = ["validate", "show", "diff", "plan", "apply", "watch", "status", "release", "rollback", "promote",
                        "history", "logs", "exec", "doctor", "init"]
        for command in commands {
            let help = try CLIRunner.run(["help", command])
            #expect(help.status == 0, "\(command): \(help.stderr)")
            #expect(help.stdout.contains("OVERVIEW:") && help.stdout.contains("OPTIONS:"), "\(command)")
            // A paragraph or more beyond the one-line abstract, and, but for the controller, the exit statuses.
            let overview = help.stdout.components(separatedBy: "USAGE:").first ?? ""
            #expect(overview.count > 400, "\(command): \(overview)")
            if command != "watch" {
                #expect(overview.contains("Exit status"), "\(command): \(overview)")
            }
        }
    }
}
