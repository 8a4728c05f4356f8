import CGit2
import CGit2Shims

/// Process-wide libgit2 setup, done once, lazily and thread-safely (Swift `static let`
/// initialisers run exactly once): `git_libgit2_init`, our deadline-aware socket stream,
/// and SIGPIPE ignored if nobody chose otherwise (libssh2 writes with plain `send`).
enum LibGit2 {
    private static let initialized: Bool = {
        git_libgit2_init()
        pw_ignore_sigpipe_if_default()
        return pw_stream_register() == 0
    }()

    /// Call before any libgit2 use.
    static func ensureInitialized() {
        _ = initialized
    }
}
