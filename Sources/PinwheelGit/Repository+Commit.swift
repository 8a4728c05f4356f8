import CGit2
import Foundation

extension Repository {
    /// Writes a commit on `branch` whose tree is the branch tip's tree with `changes`
    /// applied, and moves the branch to it, without any work tree (works in bare repositories).
    ///
    /// - When the branch does not exist, it is created with an orphan (parentless) commit.
    /// - `expectedParent`: `nil` accepts whatever the tip is now; `.some(nil)` requires the
    ///   branch not to exist; `.some(id)` requires the tip to be `id`. Mismatches throw
    ///   ``GitError/Code/referenceChanged``. The branch update itself is a compare-and-swap
    ///   against the tip the tree was built on, so a concurrent writer is never overwritten.
    /// - Deleting an absent path is a no-op; folders left empty disappear, as in git.
    /// - Returns the new commit's id. If the changes leave the tree as it was, a commit is
    ///   still written (callers that want to skip no-op commits compare ``treeID(of:at:)``).
    @discardableResult
    public func commit(changes: [FileChange], onBranch branch: String, message: String,
                       author: Signature, committer: Signature? = nil,
                       expectedParent: ObjectID?? = nil) throws(GitError) -> ObjectID {
        try locked { () throws(GitError) -> ObjectID in
            let refName = Self.branchRef(branch)
            let (tip, tree) = try updatedTree(changes: changes, onBranch: branch, expectedParent: expectedParent)
            return try writeCommit(tree: tree, parent: tip, refName: refName, message: message,
                                   author: author, committer: committer ?? author)
        }
    }

    /// The branch's tip (checked against `expectedParent`) and the tree that is its tree with `changes` applied,
    /// written to the object database. Lock held.
    func updatedTree(changes: [FileChange], onBranch branch: String,
                     expectedParent: ObjectID??) throws(GitError) -> (tip: ObjectID?, tree: ObjectID) {
        let refName = Self.branchRef(branch)
        let tip = try referenceTarget(refName)
        if let expected = expectedParent, expected != tip {
            throw GitError(.referenceChanged,
                           "branch \(branch) is at \(tip?.short ?? "nothing"), expected \(expected?.short ?? "no branch")",
                           context: "commit on \(branch)", hint: "fetch the new tip and rebuild the change")
        }

        // Baseline tree: the tip's, or an empty one for an orphan commit.
        var baseline: OpaquePointer?
        if let tip {
            baseline = try lookupTree(ofCommit: tip)
        } else {
            baseline = try emptyTree()
        }
        defer { git_tree_free(baseline) }

        // Blobs first, then one tree update pass that creates nested folders as needed.
        var updates: [(action: git_tree_update_t, id: git_oid, mode: git_filemode_t, path: String)] = []
        var seen = Set<String>()
        for change in changes {
            let path = normalize(change.path)
            guard !path.isEmpty, !path.split(separator: "/").contains("..") else {
                throw GitError(.invalidArgument, "invalid path '\(change.path)'", context: "commit on \(branch)")
            }
            guard seen.insert(path).inserted else {
                throw GitError(.invalidArgument, "path '\(path)' changed twice in one commit", context: "commit on \(branch)")
            }
            switch change {
            case .write(_, let data):
                var blob = git_oid()
                let rc = data.withUnsafeBytes { buffer in
                    git_blob_create_from_buffer(&blob, handle, buffer.baseAddress, buffer.count)
                }
                try check(rc, "write blob for \(path)")
                updates.append((GIT_TREE_UPDATE_UPSERT, blob, GIT_FILEMODE_BLOB, path))
            case .delete:
                guard let e = try entry(baseline!, path) else { continue }
                git_tree_entry_free(e)
                updates.append((GIT_TREE_UPDATE_REMOVE, git_oid(), GIT_FILEMODE_BLOB, path))
            }
        }

        var treeOID = git_oid()
        let paths = updates.map { strdup($0.path) }
        defer { paths.forEach { free($0) } }
        var cUpdates = updates.enumerated().map { i, u in
            git_tree_update(action: u.action, id: u.id, filemode: u.mode, path: UnsafePointer(paths[i]))
        }
        try check(git_tree_create_updated(&treeOID, handle, baseline, cUpdates.count, &cUpdates),
                  "build tree for commit on \(branch)")
        return (tip, ObjectID(treeOID))
    }

    /// Writes a commit with `tree` and `parent`, then compare-and-swaps `refName` from
    /// `parent` (or from not existing) to it. Lock held.
    func writeCommit(tree treeID: ObjectID, parent: ObjectID?, refName: String, message: String,
                     author: Signature, committer: Signature) throws(GitError) -> ObjectID {
        var commitOID = git_oid()
        try withCommitParts(tree: treeID, parent: parent, author: author, committer: committer) { (tree, parents, a, c) throws(GitError) -> Void in
            try check(git_commit_create(&commitOID, handle, nil, a, c, nil, message, tree, parents.count, parents.baseAddress),
                      "write commit")
        }
        let newID = ObjectID(commitOID)
        try moveReference(refName, from: parent, to: newID, message: message)
        return newID
    }

    /// What every new commit object is made of, looked up as libgit2 takes them and freed after `body`: the tree, the
    /// parents (none, or `parent`) and both signatures. A commit written (`writeCommit`) and a commit's text to sign
    /// (`commitContent`) differ only in what they make of them. Lock held.
    func withCommitParts<T>(
        tree treeID: ObjectID, parent: ObjectID?, author: Signature, committer: Signature,
        _ body: (_ tree: OpaquePointer?, _ parents: UnsafeMutableBufferPointer<OpaquePointer?>,
                 _ author: UnsafePointer<git_signature>, _ committer: UnsafePointer<git_signature>) throws(GitError) -> T
    ) throws(GitError) -> T {
        var treeOID = treeID.oid
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, handle, &treeOID), "read tree \(treeID.short)")
        defer { git_tree_free(tree) }
        var parentCommit: OpaquePointer?
        if let parent { parentCommit = try lookupCommit(parent) }
        defer { if let parentCommit { git_commit_free(parentCommit) } }
        return try author.withGitSignature { (a) throws(GitError) -> T in
            try committer.withGitSignature { (c) throws(GitError) -> T in
                var parents: [OpaquePointer?] = parentCommit.map { [$0] } ?? []
                let result: Result<T, GitError> = parents.withUnsafeMutableBufferPointer { pointers in
                    do throws(GitError) {
                        return .success(try body(tree, pointers, a, c))
                    } catch {
                        return .failure(error)
                    }
                }
                return try result.get()
            }
        }
    }

    /// Compare-and-swaps `refName` from `parent` (or from not existing) to `newID`. Lock held.
    func moveReference(_ refName: String, from parent: ObjectID?, to newID: ObjectID, message: String) throws(GitError) {
        var commitOID = newID.oid
        var ref: OpaquePointer?
        let log = "commit: \(message.split(separator: "\n").first ?? "")"
        let rc: Int32
        if let parent {
            var current = parent.oid
            rc = git_reference_create_matching(&ref, handle, refName, &commitOID, 1, &current, log)
        } else {
            rc = git_reference_create(&ref, handle, refName, &commitOID, 0, log)
        }
        if rc == GIT_EMODIFIED.rawValue || rc == GIT_EEXISTS.rawValue {
            var error = GitError.fromLibgit2(rc, context: "move \(refName) to \(newID.short)")
            error.code = .referenceChanged
            error.hint = "the branch moved while committing; rebuild the change on the new tip"
            throw error
        }
        try check(rc, "move \(refName) to \(newID.short)")
        git_reference_free(ref)
    }

    /// The empty tree (written to the object database). Caller frees it.
    func emptyTree() throws(GitError) -> OpaquePointer {
        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, handle, nil), "create tree builder")
        defer { git_treebuilder_free(builder) }
        var oid = git_oid()
        try check(git_treebuilder_write(&oid, builder), "write empty tree")
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, handle, &oid), "read empty tree")
        return tree!
    }
}
