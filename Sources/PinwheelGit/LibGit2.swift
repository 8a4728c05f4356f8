import CGit2
import CGit2Shims

/// Process-wide libgit2 setup, done once, lazily and thread-safely (Swift `static let`
/// initialisers run exactly once): `git_libgit2_init`, our deadline-aware socket stream,
/// SIGPIPE ignored if nobody chose otherwise (libssh2 writes with plain `send`), and a cap on open pack files.
enum LibGit2 {
    /// How many pack files libgit2 keeps open (and mapped) at once; it closes the least recently used beyond that.
    /// libgit2's default is no limit, so a long-running controller whose cache gains a pack with every fetch would
    /// hold one more descriptor per new commit until ``Repository/compactObjects()`` merges them.
    static let openPackFileLimit = 64

    private static let initialized: Bool = {
        git_libgit2_init()
        _ = pw_set_mwindow_file_limit(openPackFileLimit)
        pw_ignore_sigpipe_if_default()
        return pw_stream_register() == 0
    }()

    /// Call before any libgit2 use.
    static func ensureInitialized() {
        _ = initialized
    }
}

extension Repository {
    /// Turns off libgit2's cache of decoded commits and trees for the whole process.
    ///
    /// For a process that runs for months: the cache keeps each new commit's objects (its default bound is 256 MB,
    /// and in libgit2 1.5 its eviction lets the memory of parsed trees grow well past the bound it counts), so a
    /// controller grew by several kilobytes with every commit it read. The controller reads a commit's config once
    /// and keeps what it needs; reading an object again from a mapped pack costs microseconds. Short-lived commands
    /// (`history` over thousands of commits) keep the cache.
    public static func disableObjectCache() {
        LibGit2.ensureInitialized()
        _ = pw_enable_caching(0)
    }
}
