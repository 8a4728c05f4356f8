import CGit2
import Foundation

extension Repository {
    /// Resolves a revision ("HEAD", "main", "origin/main", a short SHA, "HEAD~2", a tag...)
    /// to the commit it names, peeling tags. Unknown or malformed revisions throw
    /// ``GitError/Code/invalidRevision``, with ``GitError/Code/unborn`` for an empty HEAD.
    public func resolve(_ revision: String) throws(GitError) -> ObjectID {
        try locked { () throws(GitError) in
            var object: OpaquePointer?
            let rc = git_revparse_single(&object, handle, revision)
            if rc < 0 {
                var error = GitError.fromLibgit2(rc, context: "resolve revision '\(revision)'")
                if rc == GIT_EUNBORNBRANCH.rawValue
                    || (revision.hasPrefix("HEAD") && git_repository_head_unborn(handle) == 1) {
                    error.code = .unborn
                    error.hint = "the branch has no commits yet"
                } else if error.code == .notFound || error.code == .invalidRevision || error.code == .other {
                    error.code = .invalidRevision
                    error.hint = "no branch, tag or commit by that name"
                }
                throw error
            }
            defer { git_object_free(object) }
            var peeled: OpaquePointer?
            try check(git_object_peel(&peeled, object, GIT_OBJECT_COMMIT), "revision '\(revision)' is not a commit")
            defer { git_object_free(peeled) }
            return ObjectID(git_object_id(peeled))
        }
    }

    /// Whether the commit exists in the object database.
    public func contains(_ commit: ObjectID) -> Bool {
        (try? locked { () throws(GitError) in
            let c = try lookupCommit(commit)
            git_commit_free(c)
            return true
        }) ?? false
    }

    /// Details of one commit.
    public func commitInfo(_ commit: ObjectID) throws(GitError) -> CommitInfo {
        try locked { () throws(GitError) in
            let c = try lookupCommit(commit)
            defer { git_commit_free(c) }
            return CommitInfo(c)
        }
    }

    /// The content of a file at a commit, or nil when the path does not exist there
    /// (or is a directory). Reads the object database directly: works in bare repositories.
    ///
    /// A symbolic link (a tree entry of mode 120000), as the file or as a folder on the way to it, throws
    /// ``GitError/Code/symlink`` naming it: the link's target is never returned as if it were the content.
    public func readFile(_ path: String, at commit: ObjectID) throws(GitError) -> Data? {
        try locked { () throws(GitError) -> Data? in
            let tree = try lookupTree(ofCommit: commit)
            defer { git_tree_free(tree) }
            if let link = try symlinkPrefix(tree, normalize(path)) {
                throw GitError(.symlink, "\(link) is a symbolic link", context: "read \(path) at \(commit.short)",
                               hint: "links are never followed")
            }
            guard let entry = try entry(tree, normalize(path)) else { return nil }
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
            var blob: OpaquePointer?
            try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)), "read \(path) at \(commit.short)")
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size > 0, let raw = git_blob_rawcontent(blob) else { return Data() }
            return Data(bytes: raw, count: size)
        }
    }

    /// The kind of the entry at `path` in a commit (a file, a folder, a symbolic link...), nil when absent.
    public func entryKind(_ path: String, at commit: ObjectID) throws(GitError) -> TreeEntry.Kind? {
        try locked { () throws(GitError) -> TreeEntry.Kind? in
            let tree = try lookupTree(ofCommit: commit)
            defer { git_tree_free(tree) }
            let normalized = normalize(path)
            if normalized.isEmpty { return .directory }
            guard let entry = try entry(tree, normalized) else { return nil }
            defer { git_tree_entry_free(entry) }
            return Self.kind(git_tree_entry_filemode(entry))
        }
    }

    /// The first of `path` and the folders on the way to it (shortest first) that is a symbolic link in the
    /// commit, nil when there is none. Reading at a commit never follows one.
    public func symlink(in path: String, at commit: ObjectID) throws(GitError) -> String? {
        try locked { () throws(GitError) -> String? in
            let tree = try lookupTree(ofCommit: commit)
            defer { git_tree_free(tree) }
            return try symlinkPrefix(tree, normalize(path))
        }
    }

    /// The entries of a directory at a commit, sorted by name, or nil when the path does
    /// not exist there or is not a directory. "" (or "/") is the root.
    public func listDirectory(_ path: String, at commit: ObjectID) throws(GitError) -> [TreeEntry]? {
        try locked { () throws(GitError) -> [TreeEntry]? in
            let root = try lookupTree(ofCommit: commit)
            defer { git_tree_free(root) }
            let normalized = normalize(path)
            var tree = root
            var owned: OpaquePointer?
            if !normalized.isEmpty {
                guard let entry = try entry(root, normalized) else { return nil }
                defer { git_tree_entry_free(entry) }
                guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return nil }
                try check(git_tree_lookup(&owned, handle, git_tree_entry_id(entry)), "read folder \(path)")
                tree = owned!
            }
            defer { if let owned { git_tree_free(owned) } }
            var result: [TreeEntry] = []
            for i in 0..<git_tree_entrycount(tree) {
                guard let e = git_tree_entry_byindex(tree, i) else { continue }
                result.append(TreeEntry(name: String(cString: git_tree_entry_name(e)),
                                        kind: Self.kind(git_tree_entry_filemode(e)),
                                        id: ObjectID(git_tree_entry_id(e))))
            }
            return result.sorted { $0.name < $1.name }
        }
    }

    /// The id of the blob or tree at `path` in a commit (the root tree for ""), or nil when
    /// absent. Equal ids mean identical content, so this is the cheap way to detect change.
    public func treeID(of path: String, at commit: ObjectID) throws(GitError) -> ObjectID? {
        try locked { () throws(GitError) -> ObjectID? in
            let tree = try lookupTree(ofCommit: commit)
            defer { git_tree_free(tree) }
            return try pathID(tree, normalize(path))
        }
    }

    // MARK: helpers (lock held)

    func normalize(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/")
    }

    /// The entry at a normalized, non-empty path; nil when absent. Caller frees it.
    func entry(_ tree: OpaquePointer, _ path: String) throws(GitError) -> OpaquePointer? {
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, tree, path)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "look up path \(path)")
        return entry
    }

    /// The first prefix of a normalized path whose entry is a symbolic link; nil when none is (or the path ends
    /// early).
    func symlinkPrefix(_ tree: OpaquePointer, _ path: String) throws(GitError) -> String? {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : "\(prefix)/\(component)"
            guard let e = try entry(tree, prefix) else { return nil }
            let mode = git_tree_entry_filemode(e)
            git_tree_entry_free(e)
            if mode == GIT_FILEMODE_LINK { return prefix }
            if mode != GIT_FILEMODE_TREE { return nil }
        }
        return nil
    }

    /// The id at a normalized path (root tree id for "").
    func pathID(_ tree: OpaquePointer, _ path: String) throws(GitError) -> ObjectID? {
        if path.isEmpty { return ObjectID(git_tree_id(tree)) }
        guard let e = try entry(tree, path) else { return nil }
        defer { git_tree_entry_free(e) }
        return ObjectID(git_tree_entry_id(e))
    }

    static func kind(_ mode: git_filemode_t) -> TreeEntry.Kind {
        switch mode {
        case GIT_FILEMODE_TREE: return .directory
        case GIT_FILEMODE_BLOB_EXECUTABLE: return .executable
        case GIT_FILEMODE_LINK: return .symlink
        case GIT_FILEMODE_COMMIT: return .submodule
        default: return .file
        }
    }
}
