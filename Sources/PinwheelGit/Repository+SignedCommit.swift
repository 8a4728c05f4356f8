import CGit2
import Foundation

extension Repository {
    /// Like ``commit(changes:onBranch:message:author:committer:expectedParent:)``, but the commit carries a signature
    /// in its `gpgsig` header, as `git commit -S` writes it: `sign` gets the exact commit object text (what git
    /// verifies) and returns the armored signature (for git's SSH format, `ssh-keygen -Y sign -n git`'s output).
    ///
    /// Signing may take a while (a program runs), so the repository's lock is not held meanwhile: the branch moves by
    /// compare-and-swap from the tip the commit was built on, and a writer that moved it in between makes this throw
    /// ``GitError/Code/referenceChanged`` instead of being overwritten.
    @discardableResult
    public func signedCommit(changes: [FileChange], onBranch branch: String, message: String,
                             author: Signature, committer: Signature? = nil, expectedParent: ObjectID?? = nil,
                             sign: (String) async throws -> String) async throws -> ObjectID {
        let refName = Self.branchRef(branch)
        let (tip, content) = try locked { () throws(GitError) -> (ObjectID?, String) in
            let (tip, tree) = try updatedTree(changes: changes, onBranch: branch, expectedParent: expectedParent)
            return (tip, try commitContent(tree: tree, parent: tip, message: message, author: author, committer: committer ?? author))
        }
        var signature = try await sign(content)
        // libgit2 indents each line after the first; a final newline would become a line of one space.
        while signature.hasSuffix("\n") { signature.removeLast() }
        guard !signature.isEmpty else {
            throw GitError(.invalidArgument, "the signer returned no signature", context: "signed commit on \(branch)")
        }
        return try locked { () throws(GitError) -> ObjectID in
            var oid = git_oid()
            try check(git_commit_create_with_signature(&oid, handle, content, signature, nil), "write signed commit")
            let id = ObjectID(oid)
            try moveReference(refName, from: tip, to: id, message: message)
            return id
        }
    }

    /// The text of a commit object with `tree` and `parent`, not written: what a signature covers. Lock held.
    func commitContent(tree treeID: ObjectID, parent: ObjectID?, message: String,
                       author: Signature, committer: Signature) throws(GitError) -> String {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try withCommitParts(tree: treeID, parent: parent, author: author, committer: committer) { (tree, parents, a, c) throws(GitError) -> Void in
            try check(git_commit_create_buffer(&buffer, handle, a, c, nil, message, tree, parents.count, parents.baseAddress),
                      "build commit")
        }
        return Self.string(buffer)
    }
}
