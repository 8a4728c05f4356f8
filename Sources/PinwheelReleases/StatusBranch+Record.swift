import Foundation
import PinwheelCore
import PinwheelGit

extension StatusBranch {
    /// Commits `status` to the status branch of a clone (what `apply --override` records), on the tip ``tip(_:branch:)``
    /// reads: the local branch, moved forward to origin's first when origin's is ahead, so the record lands on top of
    /// what the controller published. The branch moves by compare-and-swap: a concurrent writer is never overwritten.
    /// Nothing is pushed. With `signer` (`apply --status-signing-key`) the commit is signed as the controller signs
    /// its own, so a controller with the same key believes it.
    ///
    /// - Returns: the status commit.
    public static func record(_ status: EnvironmentStatus, in repository: Repository, branch: String,
                              author: Signature, committer: Signature, signer: StatusSigner? = nil) async throws -> ObjectID {
        let localRef = "refs/heads/\(branch)"
        let local = try repository.referenceTarget(localRef)
        let remote = try repository.referenceTarget("refs/remotes/origin/\(branch)")
        var base = local
        if let remote, remote != local {
            // Only forward: a local branch with commits origin lacks stays where it is.
            if let local, !(try repository.isDescendant(remote, of: local)) {
                base = local
            } else {
                try repository.setReference(localRef, to: remote, expected: local,
                                            logMessage: "pinwheel: start from origin/\(branch)")
                base = remote
            }
        }
        let file = FileChange.write(EnvironmentStatus.path(of: status.environment), Data(try status.yaml().utf8))
        if let signer {
            return try await repository.signedCommit(changes: [file], onBranch: branch, message: status.commitMessage,
                                                     author: author, committer: committer, expectedParent: .some(base),
                                                     sign: signer.sign)
        }
        return try repository.commit(changes: [file], onBranch: branch, message: status.commitMessage, author: author,
                                     committer: committer, expectedParent: .some(base))
    }
}
