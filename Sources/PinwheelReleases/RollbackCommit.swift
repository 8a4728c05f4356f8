import Foundation
import PinwheelCore
import PinwheelGit

/// A rollback: reverts an environment's newest change (or a named commit of the checked-out branch) through
/// ``ReleaseRevert`` (in memory, validated, then the branch moves by compare-and-swap) and updates the work tree.
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
        // Compare-and-swap with retry: when the branch moved between reading its tip and moving it, the revert is
        // made and validated again on the new tip.
        for _ in 1..<Self.attempts {
            do {
                return try attempt(in: repository, author: author, committer: committer)
            } catch {
                guard (error as? OperationError)?.code == .raced else { throw error }
            }
        }
        return try attempt(in: repository, author: author, committer: committer)
    }

    /// How many times a rollback that raced another writer of the branch is tried.
    static let attempts = 3

    private func attempt(in repository: Repository, author: Signature, committer: Signature) throws -> Result {
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
        // Reverted in memory and validated (``ReleaseRevert``); the branch moves only after the work tree is checked.
        let revert = try ReleaseRevert(environment: environment, target: target, halt: halt)
            .validated(in: repository, onto: tip, author: author, committer: committer)
        let changed = try repository.changedPaths(from: tip, to: revert.commit)
        try repository.requireCleanWorkTree(branch: branch, paths: changed)
        try revert.move("refs/heads/\(branch)", in: repository, logMessage: "pinwheel rollback: revert \(target.id.short)")
        let reverted = revert.commit
        let (before, after) = (revert.before, revert.after)
        let workTreeError = repository.syncWorkTree(branch: branch, previous: tip)
        return Result(commit: reverted, branch: branch, reverted: target,
                      diff: EnvironmentDiff.changes(from: before.environment, to: after.environment),
                      workTreeError: workTreeError)
    }
}
