import Foundation
import PinwheelCore
import PinwheelGit

/// The one way Pinwheel reverts a commit, for `pinwheel rollback`, `apply --revert` and the controller alike: the
/// revert is made in memory on top of the branch's tip, the environment it leaves is validated, and only then does
/// the branch move, by compare-and-swap from that tip. A revert that does not apply, would make the environment
/// invalid, or would remove it is never committed; a branch that moved meanwhile is never overwritten.
public struct ReleaseRevert: Sendable {
    public var environment: String
    /// The commit to revert.
    public var target: CommitInfo
    /// Why a halted rollout is reverted: the message then says so (see ``RevertMessage``).
    public var halt: RevertMessage.Halt?

    public init(environment: String, target: CommitInfo, halt: RevertMessage.Halt? = nil) {
        self.environment = environment
        self.target = target
        self.halt = halt
    }

    /// A revert made and validated, not yet on any branch.
    public struct Validated: Sendable {
        /// The revert commit.
        public var commit: ObjectID
        /// The tip it was made on: the branch must still be there to move.
        public var tip: ObjectID
        public var before: EnvironmentAtCommit
        public var after: EnvironmentAtCommit

        /// Moves `ref` (`refs/heads/<branch>`) from ``tip`` to the revert; ``OperationError/Code/raced`` when it moved.
        public func move(_ ref: String, in repository: Repository, logMessage: String) throws {
            do {
                try repository.setReference(ref, to: commit, expected: tip, logMessage: logMessage)
            } catch {
                throw OperationError(.raced, "\(ref) moved while reverting; nothing was committed, run it again (\(error))")
            }
        }
    }

    /// Reverts ``target`` on top of `tip` in memory and validates the result.
    ///
    /// - Throws: ``OperationError/Code/conflict`` when the revert does not apply, ``OperationError/Code/invalid`` when
    ///   it would make the environment invalid or remove it, or the repository's own errors. Nothing moves.
    public func validated(in repository: Repository, onto tip: ObjectID, author: Signature,
                          committer: Signature) throws -> Validated {
        let before = try EnvironmentAtCommit.load(environment, in: repository, at: tip)
        let scratch = "refs/pinwheel/revert-\(UUID().uuidString)"
        try repository.setReference(scratch, to: tip, logMessage: "pinwheel revert: scratch")
        defer { try? repository.deleteReference(scratch) }
        let message = RevertMessage(reverting: target, halt: halt).text
        let reverted: ObjectID
        do {
            reverted = try repository.revert(target.id, onBranch: scratch, message: message, author: author, committer: committer)
        } catch {
            // `revert` throws GitError only; a `catch let ... as GitError where` here sends the compiler into a loop.
            guard error.code == .conflict else { throw error }
            throw OperationError(.conflict, "cannot revert \(target.id.short) (\"\(target.summary)\"): \(error.message)",
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
        return Validated(commit: reverted, tip: tip, before: before, after: after)
    }
}
