import CGit2
import Foundation

/// A git repository, opened through libgit2.
///
/// libgit2 repository handles must not be used from two threads at once, so every public
/// method takes an internal lock: a `Repository` may be shared between tasks (it is
/// `Sendable`), but its operations run one at a time. Network operations hold the lock
/// for their whole duration, bounded by their deadline.
///
/// Values returned (``ObjectID``, ``CommitInfo``, `Data`...) are copies; no libgit2
/// object escapes, and each one is freed exactly once before the method returns.
public final class Repository: @unchecked Sendable {
    /// The `git_repository *`. Only touched while holding `lock`.
    let handle: OpaquePointer
    private let lock = NSRecursiveLock()

    /// The repository's git directory (the `.git` folder, or the repository itself when bare).
    public let gitDirectory: URL
    /// Whether the repository has no work tree.
    public let isBare: Bool

    init(handle: OpaquePointer) {
        self.handle = handle
        gitDirectory = URL(fileURLWithPath: git_repository_path(handle).map { String(cString: $0) } ?? "")
        isBare = git_repository_is_bare(handle) == 1
    }

    deinit {
        git_repository_free(handle)
    }

    /// Opens an existing repository at `path` (its work tree, its `.git`, or a bare repository).
    /// Does not search parent folders, so a path that is not a repository fails with ``GitError/Code/notFound``.
    public convenience init(openingAt path: String) throws(GitError) {
        LibGit2.ensureInitialized()
        var raw: OpaquePointer?
        let rc = git_repository_open_ext(&raw, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil)
        if rc < 0 {
            var error = GitError.fromLibgit2(rc, context: "open repository at \(path)")
            if rc == GIT_ENOTFOUND.rawValue {
                error.hint = "the folder does not exist or is not a git repository"
            }
            throw error
        }
        self.init(handle: raw!)
    }

    /// Creates a new empty repository at `path` (folders created as needed).
    /// An existing repository is re-initialised harmlessly, as `git init` does.
    public static func create(at path: String, bare: Bool = false, initialBranch: String = "main") throws(GitError) -> Repository {
        LibGit2.ensureInitialized()
        var options = git_repository_init_options()
        try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)), "init options")
        options.flags = UInt32(GIT_REPOSITORY_INIT_MKPATH.rawValue)
        if bare { options.flags |= UInt32(GIT_REPOSITORY_INIT_BARE.rawValue) }
        var raw: OpaquePointer?
        let head = strdup("refs/heads/\(initialBranch)")
        defer { free(head) }
        options.initial_head = UnsafePointer(head)
        try check(git_repository_init_ext(&raw, path, &options), "create repository at \(path)")
        return Repository(handle: raw!)
    }

    /// Runs `body` with the repository locked.
    func locked<T>(_ body: () throws(GitError) -> T) throws(GitError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Small libgit2 helpers (call with the lock held)

    /// Looks up a commit; the caller frees it with `git_commit_free`.
    func lookupCommit(_ id: ObjectID) throws(GitError) -> OpaquePointer {
        var oid = id.oid
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, handle, &oid), "look up commit \(id.short)")
        return commit!
    }

    /// The tree of a commit; the caller frees it with `git_tree_free`.
    func lookupTree(ofCommit id: ObjectID) throws(GitError) -> OpaquePointer {
        let commit = try lookupCommit(id)
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit), "read tree of commit \(id.short)")
        return tree!
    }
}
