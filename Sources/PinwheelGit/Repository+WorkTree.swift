import CGit2
import Foundation

extension Repository {
    /// The work tree's folder (with a trailing `/`), nil for a bare repository.
    public var workDirectory: String? {
        (try? locked { () throws(GitError) -> String? in
            git_repository_workdir(handle).map { String(cString: $0) }
        }) ?? nil
    }

    /// The branch HEAD is on (`main`, not `refs/heads/main`), also when it has no commit yet;
    /// nil when HEAD is detached.
    public func currentBranch() throws(GitError) -> String? {
        try locked { () throws(GitError) -> String? in
            var ref: OpaquePointer?
            try check(git_reference_lookup(&ref, handle, "HEAD"), "read HEAD")
            defer { git_reference_free(ref) }
            guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC,
                  let target = git_reference_symbolic_target(ref).map({ String(cString: $0) }),
                  target.hasPrefix("refs/heads/") else { return nil }
            return String(target.dropFirst("refs/heads/".count))
        }
    }

    /// The signature git would use for a new commit: `user.name` and `user.email` from the
    /// repository's, the user's and the system's git config (libgit2's `git_signature_default`),
    /// dated now; nil when they are not set.
    public func defaultSignature() -> Signature? {
        try? locked { () throws(GitError) -> Signature? in
            var raw: UnsafeMutablePointer<git_signature>?
            guard git_signature_default(&raw, handle) == 0, let raw else { return nil }
            defer { git_signature_free(raw) }
            let signature = Signature(UnsafePointer(raw))
            return signature.name.isEmpty || signature.email.isEmpty ? nil : signature
        }
    }

    /// Whether `commit` has `ancestor` in its history (a commit is not its own descendant).
    public func isDescendant(_ commit: ObjectID, of ancestor: ObjectID) throws(GitError) -> Bool {
        try locked { () throws(GitError) -> Bool in
            var a = commit.oid
            var b = ancestor.oid
            let rc = git_graph_descendant_of(handle, &a, &b)
            try check(rc, "compare \(commit.short) with \(ancestor.short)")
            return rc == 1
        }
    }

    /// The paths of files that differ between two commits (added, removed or modified), sorted.
    /// `from` nil means the empty tree.
    public func changedPaths(from: ObjectID?, to: ObjectID) throws(GitError) -> [String] {
        try locked { () throws(GitError) -> [String] in
            let old: OpaquePointer? = try from.map { (id) throws(GitError) in try lookupTree(ofCommit: id) }
            defer { if let old { git_tree_free(old) } }
            let new = try lookupTree(ofCommit: to)
            defer { git_tree_free(new) }
            var diff: OpaquePointer?
            try check(git_diff_tree_to_tree(&diff, handle, old, new, nil), "compare \(from?.short ?? "nothing") with \(to.short)")
            defer { git_diff_free(diff) }
            var paths = Set<String>()
            for i in 0..<git_diff_num_deltas(diff) {
                guard let delta = git_diff_get_delta(diff, i) else { continue }
                if let p = delta.pointee.old_file.path { paths.insert(String(cString: p)) }
                if let p = delta.pointee.new_file.path { paths.insert(String(cString: p)) }
            }
            return paths.sorted()
        }
    }

    /// The paths under `paths` (files or folders) whose work tree or index differs from HEAD,
    /// untracked files included, sorted. Empty for a bare repository.
    public func uncommittedChanges(in paths: [String]) throws(GitError) -> [String] {
        try locked { () throws(GitError) -> [String] in
            guard git_repository_is_bare(handle) == 0 else { return [] }
            var options = git_status_options()
            try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "status options")
            options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
            options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            let specs = paths.map { strdup(normalize($0)) }
            defer { specs.forEach { free($0) } }
            var list: OpaquePointer?
            var strings: [UnsafeMutablePointer<CChar>?] = specs
            let rc = strings.withUnsafeMutableBufferPointer { buffer -> Int32 in
                options.pathspec = git_strarray(strings: buffer.baseAddress, count: buffer.count)
                return git_status_list_new(&list, handle, &options)
            }
            try check(rc, "read the work tree's status")
            defer { git_status_list_free(list) }
            var result = Set<String>()
            for i in 0..<git_status_list_entrycount(list) {
                guard let entry = git_status_byindex(list, i) else { continue }
                if entry.pointee.status.rawValue & GIT_STATUS_IGNORED.rawValue != 0 { continue }
                for delta in [entry.pointee.head_to_index, entry.pointee.index_to_workdir] {
                    guard let delta else { continue }
                    if let p = delta.pointee.new_file.path { result.insert(String(cString: p)) }
                    else if let p = delta.pointee.old_file.path { result.insert(String(cString: p)) }
                }
            }
            return result.sorted()
        }
    }

    /// After HEAD's branch moved from `previous` to its current tip without touching the work
    /// tree (a commit made through libgit2), brings the index and the work tree's files that
    /// differ between the two commits up to date, so the work tree is clean again.
    ///
    /// Safe: a file whose work tree content is not `previous`'s is left alone and reported as
    /// ``GitError/Code/conflict`` naming it, and then nothing is written. Other files are not touched.
    ///
    /// Every file is replaced, never written into: its content goes to a new file in the same folder,
    /// which is renamed over the path. A path that is, or goes through, a symbolic link, or whose real
    /// path leaves the work tree, is refused (``GitError/Code/symlink``,
    /// ``GitError/Code/outsideRepository``) before anything is written.
    public func updateWorkTree(from previous: ObjectID) throws(GitError) {
        try locked { () throws(GitError) in
            guard git_repository_is_bare(handle) == 0, let root = git_repository_workdir(handle).map({ String(cString: $0) }) else { return }
            var headID = git_oid()
            try check(git_reference_name_to_id(&headID, handle, "HEAD"), "read HEAD")
            let changes = try treeChanges(from: previous, to: ObjectID(headID))
            try requireContained(changes.map(\.path), root: root)
            var conflicts: [String] = []
            for change in changes where !(try workTreeMatches(change, root: root)) {
                conflicts.append(change.path)
            }
            if !conflicts.isEmpty {
                throw GitError(.conflict, "the work tree has changes to \(conflicts.sorted().joined(separator: ", "))",
                               context: "update the work tree", hint: "those files were left as they are")
            }
            for change in changes {
                try replaceInWorkTree(change, root: root)
            }
            var index: OpaquePointer?
            try check(git_repository_index(&index, handle), "open the index")
            defer { git_index_free(index) }
            for change in changes {
                if change.newID == nil {
                    try check(git_index_remove_bypath(index, change.path), "remove \(change.path) from the index")
                } else {
                    try check(git_index_add_bypath(index, change.path), "add \(change.path) to the index")
                }
            }
            try check(git_index_write(index), "write the index")
        }
    }

    /// Refuses, before anything is written, paths of the work tree that are or go through a symbolic
    /// link, or whose real path leaves the work tree. Nothing to check in a bare repository.
    public func requireContainedInWorkTree(_ paths: [String]) throws(GitError) {
        try locked { () throws(GitError) in
            guard git_repository_is_bare(handle) == 0, let root = git_repository_workdir(handle).map({ String(cString: $0) }) else { return }
            try requireContained(paths, root: root)
        }
    }
}
