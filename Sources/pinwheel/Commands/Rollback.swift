import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit the revert of an environment's newest change (or of a named commit) on the current branch.",
        discussion: """
            Finds the newest commit on the current branch that changed Environments/<env>/ (or takes --to), \
            reverts it in memory, validates the result, and only then moves the branch. The old slot is still \
            warm on the hosts, so applying the revert is one nginx switch per host. Work tree and push handling \
            are those of `release`. Exit status 0 committed, 1 conflict, invalid result or refused, 2 usage error.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The config repository (a git repository).", valueName: "path"))
    var repo: String = "."

    @Option(name: .long, help: ArgumentHelp("The commit to revert (default: the newest that changed the environment).", valueName: "rev"))
    var to: String?

    @OptionGroup var publishing: PushOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func run() async throws {
        let repository = try GitSupport.open(repo)
        let (branch, tip) = try GitSupport.currentBranch(repository)
        let folder = "\(ConfigLoader.environmentsFolder)/\(environment)"

        let target: CommitInfo
        if let to {
            let id = try wrapUsage { try repository.resolve(to) }
            var onBranch = id == tip
            if !onBranch { onBranch = try repository.isDescendant(tip, of: id) }
            guard onBranch else {
                throw UsageError("\(to) (\(id.short)) is not on \(branch): only commits of the current branch can be rolled back")
            }
            target = try repository.commitInfo(id)
        } else {
            guard let newest = try repository.history(of: folder, from: tip, limit: 1).first else {
                StandardError.write("pinwheel: no commit on \(branch) changed \(folder)/: nothing to roll back")
                throw ExitCode.failure
            }
            target = newest
        }
        let before = try GitSupport.load(environment, in: repository, at: tip)

        // Revert onto a scratch reference, validate, and only then move the branch (compare-and-swap).
        let scratch = "refs/pinwheel/rollback-\(UUID().uuidString)"
        try repository.setReference(scratch, to: tip, logMessage: "pinwheel rollback: scratch")
        defer { try? repository.deleteReference(scratch) }
        let (author, committer) = try GitSupport.signatures(repository)
        let message = "Revert \"\(target.summary)\"\n\nThis reverts commit \(target.id.hex).\n"
        let reverted: ObjectID
        do {
            reverted = try repository.revert(target.id, onBranch: scratch, message: message, author: author, committer: committer)
        } catch {
            // `revert` throws GitError only; a `catch let ... as GitError where` here sends the compiler into a loop.
            guard error.code == .conflict else { throw error }
            StandardError.write("pinwheel: cannot roll back \(target.id.short) (\"\(target.summary)\"): \(error.message)")
            StandardError.write("pinwheel: those files changed again after it; nothing was committed. Edit them by hand "
                                + "(e.g. `pinwheel release` the versions you want, or revert the later commits first)")
            throw ExitCode.failure
        }
        let after = try GitSupport.load(environment, in: repository, at: reverted)
        switch after {
        case .invalid(let diagnostics):
            StandardError.write("pinwheel: reverting \(target.id.short) would make \(environment) invalid; nothing was committed:")
            GitSupport.printDiagnostics(diagnostics)
            throw ExitCode.failure
        case .missing where before.environment != nil:
            StandardError.write("pinwheel: reverting \(target.id.short) would remove \(environment); nothing was committed")
            throw ExitCode.failure
        default:
            break
        }
        let changed = try repository.changedPaths(from: tip, to: reverted)
        try GitSupport.requireCleanWorkTree(repository, branch: branch, paths: changed)
        do {
            try repository.setReference("refs/heads/\(branch)", to: reverted, expected: tip,
                                        logMessage: "pinwheel rollback: revert \(target.id.short)")
        } catch {
            StandardError.write("pinwheel: \(branch) moved while rolling back; nothing was committed, run it again (\(error))")
            throw ExitCode.failure
        }
        GitSupport.syncWorkTree(repository, branch: branch, previous: tip)
        print("committed \(reverted.hex) on \(branch): reverts \(target.id.short) \"\(target.summary)\"")
        let diff = EnvironmentDiff.changes(from: before.environment, to: after.environment)
        if diff.isEmpty {
            print("\(environment): no change to the desired state")
        } else {
            for line in diff { print(line) }
        }
        if publishing.push {
            try await GitSupport.push(repository, branch: branch, remote: publishing.remote)
        }
    }
}
