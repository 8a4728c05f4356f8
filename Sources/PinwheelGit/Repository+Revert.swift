import CGit2

extension Repository {
    /// Commits on `branch` the inverse of `commit` with `message` (PinwheelReleases' `RevertMessage` writes
    /// the usual one), computed in memory against the branch
    /// tip (libgit2's `git_revert_commit`), without a work tree.
    ///
    /// Throws ``GitError/Code/conflict`` naming the conflicting paths when the revert does
    /// not apply cleanly; the branch is then left unchanged. A merge commit is reverted
    /// relative to its first parent.
    @discardableResult
    public func revert(_ commit: ObjectID, onBranch branch: String, message: String,
                       author: Signature, committer: Signature? = nil) throws(GitError) -> ObjectID {
        try locked { () throws(GitError) -> ObjectID in
            let refName = Self.branchRef(branch)
            guard let tip = try referenceTarget(refName) else {
                throw GitError(.notFound, "branch \(branch) does not exist", context: "revert \(commit.short)")
            }
            let toRevert = try lookupCommit(commit)
            defer { git_commit_free(toRevert) }
            let ours = try lookupCommit(tip)
            defer { git_commit_free(ours) }

            var mergeOptions = git_merge_options()
            try check(git_merge_options_init(&mergeOptions, UInt32(GIT_MERGE_OPTIONS_VERSION)), "merge options")
            let mainline: UInt32 = git_commit_parentcount(toRevert) > 1 ? 1 : 0
            var index: OpaquePointer?
            try check(git_revert_commit(&index, handle, toRevert, ours, mainline, &mergeOptions),
                      "revert \(commit.short) on \(branch)")
            defer { git_index_free(index) }

            if git_index_has_conflicts(index) != 0 {
                let paths = try conflictPaths(index!)
                throw GitError(.conflict, "reverting \(commit.short) conflicts with later changes in: \(paths.joined(separator: ", "))",
                               context: "revert \(commit.short) on \(branch)",
                               hint: "the paths were changed again after that commit; revert by hand")
            }
            var treeOID = git_oid()
            try check(git_index_write_tree_to(&treeOID, index, handle), "write reverted tree")
            return try writeCommit(tree: ObjectID(treeOID), parent: tip, refName: refName, message: message,
                                   author: author, committer: committer ?? author)
        }
    }

    private func conflictPaths(_ index: OpaquePointer) throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        try check(git_index_conflict_iterator_new(&iterator, index), "list conflicts")
        defer { git_index_conflict_iterator_free(iterator) }
        var paths = Set<String>()
        var ancestor: UnsafePointer<git_index_entry>?
        var ours: UnsafePointer<git_index_entry>?
        var theirs: UnsafePointer<git_index_entry>?
        while git_index_conflict_next(&ancestor, &ours, &theirs, iterator) == 0 {
            for entry in [ancestor, ours, theirs] {
                if let path = entry?.pointee.path { paths.insert(String(cString: path)) }
            }
        }
        return paths.sorted()
    }
}
