import CGit2
import Foundation

/// A remote's settings as the repository's config says them.
struct RemoteSettings {
    var url: String
    var pushURL: String?
    /// `remote.<name>.fetch`, in the config's order.
    var fetchRefspecs: [String]
}

extension Repository {
    /// Reads `remote.<name>.*` from a snapshot of the config, or nil when there is no such remote.
    ///
    /// Why not `git_remote_lookup`: in libgit2 1.5.1 (Debian 12's) a config regex that does not match leaks pcre2's
    /// match data and its backtracking frames (20 KB and more), and a lookup matches every config entry against
    /// `url.*.insteadof` twice. A controller that fetches every few seconds grew by about 370 KB a poll that way.
    /// Reading the keys by name uses no regex. Call with the lock held.
    func remoteSettings(_ name: String) throws(GitError) -> RemoteSettings? {
        var config: OpaquePointer?
        try check(git_repository_config_snapshot(&config, handle), "read the config")
        defer { git_config_free(config) }
        guard let url = try Self.configString(config, "remote.\(name).url") else { return nil }
        let pushURL = try Self.configString(config, "remote.\(name).pushurl")
        var refspecs: [String] = []
        var iterator: OpaquePointer?
        let rc = git_config_multivar_iterator_new(&iterator, config, "remote.\(name).fetch", nil)
        if rc != GIT_ENOTFOUND.rawValue {
            try check(rc, "read remote.\(name).fetch")
            defer { git_config_iterator_free(iterator) }
            var entry: UnsafeMutablePointer<git_config_entry>?
            while git_config_next(&entry, iterator) == 0 {
                if let value = entry?.pointee.value { refspecs.append(String(cString: value)) }
            }
        }
        return RemoteSettings(url: url, pushURL: pushURL, fetchRefspecs: refspecs)
    }

    /// Makes an in-memory remote for `name` from its config: its URL taken as written (no `insteadOf` rewriting, so
    /// the operator's global git config cannot redirect the controller), its first fetch refspec as its own (so a
    /// push still moves the remote-tracking branch), nothing written to the config. The caller frees it with
    /// `git_remote_free`. Call with the lock held.
    func detachedRemote(_ name: String, context: String) throws(GitError) -> (remote: OpaquePointer, settings: RemoteSettings) {
        guard let settings = try remoteSettings(name) else {
            throw GitError(.notFound, "no remote named \(name)", context: context,
                           hint: "add it (git remote add \(name) URL) or give the repository's URL")
        }
        var options = git_remote_create_options()
        try check(git_remote_create_options_init(&options, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION)), "remote options")
        options.repository = handle
        options.flags = UInt32(GIT_REMOTE_CREATE_SKIP_INSTEADOF.rawValue | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC.rawValue)
        var remote: OpaquePointer?
        let fetchspec = settings.fetchRefspecs.first.flatMap { strdup($0) }
        defer { free(fetchspec) }
        options.fetchspec = fetchspec.map { UnsafePointer($0) }
        try check(git_remote_create_with_opts(&remote, settings.url, &options), "\(context): set up remote \(name)")
        if let pushURL = settings.pushURL {
            let set = git_remote_set_instance_pushurl(remote, pushURL)
            if set < 0 {
                git_remote_free(remote)
                _ = try check(set, "\(context): set the push URL of remote \(name)")
            }
        }
        return (remote!, settings)
    }
}

extension Repository {
    /// A string from `config`, nil when it is not set.
    static func configString(_ config: OpaquePointer?, _ key: String) throws(GitError) -> String? {
        var value: UnsafePointer<CChar>?
        let rc = git_config_get_string(&value, config, key)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "read \(key)")
        return value.map { String(cString: $0) }
    }

    /// Runs `body` with the strings as a `git_strarray` (nil for an empty list).
    static func withStrarray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>?) -> T) -> T {
        guard !strings.isEmpty else { return body(nil) }
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafeMutablePointer<CChar>?] = copies
        return pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return body(&array)
        }
    }
}
