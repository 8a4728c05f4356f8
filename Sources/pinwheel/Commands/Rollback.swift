import ArgumentParser
import PinwheelReleases

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit the revert of an environment's newest change (or of a named commit) on the current branch.",
        discussion: """
            Finds the newest commit on the current branch that changed Environments/<env>/ (or takes --to), reverts \
            it in memory, validates the result, and only then moves the branch; prints what it changes. A conflict \
            names the files and commits nothing. The old slot is still warm on the hosts, so applying the revert is \
            one nginx switch per host. Work tree and push handling are those of `release`.

            Exit status 0 committed, 1 conflict, invalid result or refused, 2 usage error.
            """
    )

    @OptionGroup var repository: GitRepositoryOptions

    @Option(name: .long, help: ArgumentHelp("The commit to revert (default: the newest that changed the environment).", valueName: "rev"))
    var to: String?

    @OptionGroup var publishing: PushOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func run() async throws {
        let repository = try self.repository.open()
        let rollback = RollbackCommit(environment: environment, target: to)
        let result = try GitSupport.committing(in: repository) { try rollback.commit(in: repository, author: $0, committer: $1) }
        GitSupport.reportWorkTree(result.workTreeError)
        print("committed \(result.commit.hex) on \(result.branch): reverts \(result.reverted.id.short) \"\(result.reverted.summary)\"")
        if result.diff.isEmpty {
            print("\(environment): no change to the desired state")
        } else {
            for line in result.diff { print(line) }
        }
        if publishing.push {
            try await GitSupport.push(repository, branch: result.branch, remote: publishing.remote)
        }
    }
}
