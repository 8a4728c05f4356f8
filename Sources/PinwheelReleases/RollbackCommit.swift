import Foundation
import PinwheelCore
import PinwheelGit

/// A rollback: reverts an environment's newest change (or a named commit of the checked-out branch) in
/// memory, validates the result, and only then moves the branch (compare-and-swap) and updates the work tree.
public struct RollbackCommit: Sendable {
    public var environment: String
    /// The revision to revert; by default the newest commit that changed `Environments/<env>/`.
    public var target: String?
    /// Why a halted rollout is reverted (`apply --revert`): the message then says so, as the controller's does.
    public var halt: RevertMessage.Halt?

    public init(environment: String, target: String? = nil, halt: RevertMessage.Halt? = nil) {
        self.environment = environment
        self.target = target
        self.halt = halt
    }

    /// What was committed.
    public struct Result: Sendable {
        /// The revert commit.
        public var commit: ObjectID
        public var branch: String
        /// The commit that was reverted.
        public var reverted: CommitInfo
        /// What changed in the desired state, one line each; empty when nothing did.
        public var diff: [String]
        /// Set when the commit was made but the checked-out work tree could not be brought up to date.
        public var workTreeError: GitError?
    }

    /// Commits the rollback in `repository`.
    ///
    /// - Throws: ``OperationError`` when nothing was committed (``OperationError/Code/conflict`` when the
    ///   revert does not apply), or the repository's own errors.
    public func commit(in repository: Repository, author: Signature, committer: Signature) throws -> Result {
        let (branch, tip) = try repository.checkedOutBranch()
        let folder = "\(ConfigLoader.environmentsFolder)/\(environment)"

        let target: CommitInfo
        if let revision = self.target {
            let id: ObjectID
            do {
                id = try repository.resolve(revision)
            } catch {
                throw OperationError(.usage, "\(error)")
            }
            var onBranch = id == tip
            if !onBranch { onBranch = try repository.isDescendant(tip, of: id) }
            guard onBranch else {
                throw OperationError(.usage, "\(revision) (\(id.short)) is not on \(branch): only commits of the current branch can be rolled back")
            }
            target = try repository.commitInfo(id)
        } else {
            guard let newest = try repository.history(of: folder, from: tip, limit: 1).first else {
                throw OperationError(.notFound, "no commit on \(branch) changed \(folder)/: nothing to roll back")
            }
            target = newest
        }
        let before = try EnvironmentAtCommit.load(environment, in: repository, at: tip)

        // Revert onto a scratch reference, validate, and only then move the branch.
        let scratch = "refs/pinwheel/rollback-\(UUID().uuidString)"
        try repository.setReference(scratch, to: tip, logMessage: "pinwheel rollback: scratch")
        defer { try? repository.deleteReference(scratch) }
        let message = RevertMessage(reverting: target, halt: halt).text
        let reverted: ObjectID
        do {
            reverted = try repository.revert(target.id, onBranch: scratch, message: message, author: author, committer: committer)
        } catch {
            // `revert` throws GitError only; a `catch let ... as GitError where` here sends the compiler into a loop.
            guard error.code == .conflict else { throw error }
            throw OperationError(.conflict, "cannot roll back \(target.id.short) (\"\(target.summary)\"): \(error.message)",
                                 hint: "those files changed again after it; nothing was committed. Edit them by hand "
                                     + "(e.g. `pinwheel release` the versions you want, or revert the later commits first)")
        }
        let after = try EnvironmentAtCommit.load(environment, in: repository, at: reverted)
        switch after {
        case .invalid(let diagnostics):
            throw OperationError(.invalid, "reverting \(target.id.short) would make \(environment) invalid; nothing was committed:",
                                 diagnostics: diagnostics)
        case .missing where before.environment != nil:
            throw OperationError(.invalid, "reverting \(target.id.short) would remove \(environment); nothing was committed")
        default:
            break
        }
        let changed = try repository.changedPaths(from: tip, to: reverted)
        try repository.requireCleanWorkTree(branch: branch, paths: changed)
        do {
            try repository.setReference("refs/heads/\(branch)", to: reverted, expected: tip,
                                        logMessage: "pinwheel rollback: revert \(target.id.short)")
        } catch {
            throw OperationError(.raced, "\(branch) moved while rolling back; nothing was committed, run it again (\(error))")
        }
        let workTreeError = repository.syncWorkTree(branch: branch, previous: tip)
        return Result(commit: reverted, branch: branch, reverted: target,
                      diff: EnvironmentDiff.changes(from: before.environment, to: after.environment),
                      workTreeError: workTreeError)
    }
}
