import CGit2

extension Repository {
    /// Commits reachable from `commit` that changed `path` (all commits when `path` is nil),
    /// newest first (by commit time, never a parent before its child), at most `limit` of them.
    ///
    /// A commit touched the path when the path's blob/tree id differs from the one in its
    /// first parent (or, for a root commit, when the path exists). This compares ids only,
    /// never computes diffs, so it stays fast on long histories. Merges count when they
    /// changed the path relative to their first parent, i.e. when they brought in a change
    /// from another branch; the commits on that branch that touched the path are listed too.
    public func history(of path: String? = nil, from commit: ObjectID, limit: Int? = nil) throws(GitError) -> [CommitInfo] {
        try locked { () throws(GitError) -> [CommitInfo] in
            let walk = try startWalk(from: commit)
            defer { git_revwalk_free(walk) }

            let normalized = path.map(normalize)
            // Path id per tree id (trees are shared between commits; cheap memo).
            var cache: [ObjectID: ObjectID?] = [:]
            func pathID(ofCommit c: OpaquePointer) throws(GitError) -> ObjectID? {
                let treeID = ObjectID(git_commit_tree_id(c))
                if let cached = cache[treeID] { return cached }
                var tree: OpaquePointer?
                try check(git_commit_tree(&tree, c), "read tree of \(ObjectID(git_commit_id(c)).short)")
                defer { git_tree_free(tree) }
                let id = try self.pathID(tree!, normalized ?? "")
                cache[treeID] = id
                return id
            }

            var result: [CommitInfo] = []
            var oid = git_oid()
            while true {
                if let limit, result.count >= limit { break }
                let rc = git_revwalk_next(&oid, walk)
                if rc == GIT_ITEROVER.rawValue { break }
                try check(rc, "walk history")
                var c: OpaquePointer?
                try check(git_commit_lookup(&c, handle, &oid), "read commit \(ObjectID(oid).short)")
                defer { git_commit_free(c) }
                var touched = true
                if normalized != nil {
                    let mine = try pathID(ofCommit: c!)
                    if git_commit_parentcount(c) == 0 {
                        touched = mine != nil
                    } else {
                        var parent: OpaquePointer?
                        try check(git_commit_parent(&parent, c, 0), "read parent of \(ObjectID(oid).short)")
                        defer { git_commit_free(parent) }
                        touched = try mine != pathID(ofCommit: parent!)
                    }
                }
                if touched { result.append(CommitInfo(c!)) }
            }
            return result
        }
    }
}

extension Repository {
    /// The commits reachable from `tip` but not from `base` (`git log base..tip`), newest first; every commit
    /// reachable from `tip` when `base` is nil. At most `limit`: a longer range throws, so a caller never decides on
    /// part of it.
    public func commits(from tip: ObjectID, excluding base: ObjectID?, limit: Int = 10_000) throws(GitError) -> [CommitInfo] {
        try locked { () throws(GitError) -> [CommitInfo] in
            let walk = try startWalk(from: tip)
            defer { git_revwalk_free(walk) }
            if let base {
                var hidden = base.oid
                try check(git_revwalk_hide(walk, &hidden), "walk history from \(tip.short) without \(base.short)")
            }
            var result: [CommitInfo] = []
            var oid = git_oid()
            while true {
                let rc = git_revwalk_next(&oid, walk)
                if rc == GIT_ITEROVER.rawValue { break }
                try check(rc, "walk history")
                guard result.count < limit else {
                    throw GitError(.other, "more than \(limit) commits between \(base?.short ?? "the root") and \(tip.short)")
                }
                var c: OpaquePointer?
                try check(git_commit_lookup(&c, handle, &oid), "read commit \(ObjectID(oid).short)")
                defer { git_commit_free(c) }
                result.append(CommitInfo(c!))
            }
            return result
        }
    }
}

extension Repository {
    /// A history walk from `tip`, newest first by commit time, never a parent before its child; the caller frees it
    /// with `git_revwalk_free`. Call with the lock held.
    func startWalk(from tip: ObjectID) throws(GitError) -> OpaquePointer {
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, handle), "start history walk")
        do throws(GitError) {
            try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "sort history walk")
            var start = tip.oid
            try check(git_revwalk_push(walk, &start), "walk history from \(tip.short)")
        } catch {
            git_revwalk_free(walk)
            throw error
        }
        return walk!
    }
}
