import CGit2
import Foundation

/// What a fetch changed.
public struct FetchResult: Sendable, Hashable {
    /// References created, moved or deleted by the fetch, with their new target (nil when deleted).
    public var updatedReferences: [String: ObjectID?]
    /// Whether anything changed.
    public var changed: Bool { !updatedReferences.isEmpty }
}

extension Repository {
    /// Clones `url` into `path` (which must not exist or be empty).
    ///
    /// A bare clone is the cache layout the controller uses: remote branches land in
    /// `refs/remotes/origin/*` (the default fetch refspec) and the remote's default branch
    /// as the local branch, so ``fetch(remote:options:)`` keeps `origin/<branch>` current.
    /// Runs on a dedicated thread under `options.deadline`; a half-made clone folder is
    /// removed when the clone fails.
    public static func clone(from url: String, to path: String, bare: Bool = false,
                             options: RemoteOptions = RemoteOptions()) async throws(GitError) -> Repository {
        let target = "clone \(url)"
        if let refused = RemoteURL.plaintextCredentialError(url: url, credentials: options.credentials, context: target) { throw refused }
        let existed = FileManager.default.fileExists(atPath: path)
        do {
            return try await NetworkOperation.run(deadline: options.deadline, target: target) { (operation) throws(GitError) -> Repository in
                var cloneOptions = git_clone_options()
                try check(git_clone_options_init(&cloneOptions, UInt32(GIT_CLONE_OPTIONS_VERSION)), "clone options")
                cloneOptions.bare = bare ? 1 : 0
                let callbacks = RemoteCallbacks(options: options, operation: operation, url: url)
                callbacks.install(into: &cloneOptions.fetch_opts.callbacks)
                var raw: OpaquePointer?
                let rc = withExtendedLifetime(callbacks) { git_clone(&raw, url, path, &cloneOptions) }
                if rc < 0 { throw Self.networkError(rc, callbacks: callbacks, operation: operation) }
                return Repository(handle: raw!)
            }
        } catch {
            if !existed { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
    }

    /// Fetches `remote` with its configured refspecs (by default
    /// `+refs/heads/*:refs/remotes/<remote>/*`), pruning remote-tracking branches deleted
    /// on the remote. Local branches are never touched: read `origin/<branch>` afterwards.
    /// Returns which references changed. Runs on a dedicated thread under `options.deadline`.
    @discardableResult
    public func fetch(remote: String = "origin", options: RemoteOptions = RemoteOptions()) async throws(GitError) -> FetchResult {
        let url = (try? remoteURL(remote)) ?? nil
        let target = "fetch from \(remote)" + (url.map { " (\($0))" } ?? "")
        if let url, let refused = RemoteURL.plaintextCredentialError(url: url, credentials: options.credentials, context: target) {
            throw refused
        }
        return try await NetworkOperation.run(deadline: options.deadline, target: target) { (operation) throws(GitError) -> FetchResult in
            try self.locked { () throws(GitError) -> FetchResult in
                let before = try self.referenceSnapshot()
                let (handle, settings) = try self.detachedRemote(remote, context: target)
                defer { git_remote_free(handle) }
                var fetchOptions = git_fetch_options()
                try check(git_fetch_options_init(&fetchOptions, UInt32(GIT_FETCH_OPTIONS_VERSION)), "fetch options")
                fetchOptions.prune = GIT_FETCH_PRUNE
                // Tags as a named remote fetches them; no FETCH_HEAD, which nobody reads and whose writing looks the
                // remote up again (the lookup that leaks in libgit2 1.5.1, see `remoteSettings`).
                fetchOptions.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_AUTO
                fetchOptions.update_fetchhead = 0
                let callbacks = RemoteCallbacks(options: options, operation: operation, url: url ?? "")
                callbacks.install(into: &fetchOptions.callbacks)
                let rc = Self.withStrarray(settings.fetchRefspecs) { refspecs in
                    withExtendedLifetime(callbacks) { git_remote_fetch(handle, refspecs, &fetchOptions, "pinwheel: fetch") }
                }
                if rc < 0 { throw Self.networkError(rc, callbacks: callbacks, operation: operation) }
                let after = try self.referenceSnapshot()
                var updated: [String: ObjectID?] = [:]
                for (name, id) in after where before[name] != id { updated[name] = id }
                for name in before.keys where after[name] == nil { updated[name] = .some(nil) }
                return FetchResult(updatedReferences: updated)
            }
        }
    }

    /// Pushes local `branch` to `remoteBranch` (default: the same name) on `remote`,
    /// never forcing. A rejection because the remote moved on throws
    /// ``GitError/Code/nonFastForward``: fetch, rebuild the change on the new tip, push again.
    /// Runs on a dedicated thread under `options.deadline`.
    public func push(branch: String, to remote: String = "origin", remoteBranch: String? = nil,
                     options: RemoteOptions = RemoteOptions()) async throws(GitError) {
        let url = (try? remoteURL(remote)) ?? nil
        let destination = remoteBranch ?? branch
        let target = "push \(branch) to \(remote)/\(destination)" + (url.map { " (\($0))" } ?? "")
        if let url, let refused = RemoteURL.plaintextCredentialError(url: url, credentials: options.credentials, context: target) {
            throw refused
        }
        try await NetworkOperation.run(deadline: options.deadline, target: target) { (operation) throws(GitError) in
            try self.locked { () throws(GitError) in
                let (handle, settings) = try self.detachedRemote(remote, context: target)
                defer { git_remote_free(handle) }
                // A push URL of its own (`remote.<name>.pushurl`) is where the credentials go: checked as the URL is.
                if let pushURL = settings.pushURL,
                   let refused = RemoteURL.plaintextCredentialError(url: pushURL, credentials: options.credentials, context: target) {
                    throw refused
                }
                var pushOptions = git_push_options()
                try check(git_push_options_init(&pushOptions, UInt32(GIT_PUSH_OPTIONS_VERSION)), "push options")
                let callbacks = RemoteCallbacks(options: options, operation: operation, url: url ?? "")
                callbacks.install(into: &pushOptions.callbacks)
                let refspec = "\(Self.branchRef(branch)):\(Self.branchRef(destination))"
                let rc = Self.withStrarray([refspec]) { refspecs in
                    withExtendedLifetime(callbacks) { git_remote_push(handle, refspecs, &pushOptions) }
                }
                if rc < 0 {
                    var error = Self.networkError(rc, callbacks: callbacks, operation: operation)
                    if error.code == .nonFastForward || Self.looksNonFastForward(error.message) {
                        error.code = .nonFastForward
                        error.hint = "someone else pushed first: fetch, rebuild on the new tip and push again"
                    }
                    throw error
                }
                if let rejection = callbacks.rejections.first {
                    let nonFF = Self.looksNonFastForward(rejection.status)
                    throw GitError(nonFF ? .nonFastForward : .other,
                                   "the remote rejected \(rejection.ref): \(rejection.status)", context: target,
                                   hint: nonFF ? "someone else pushed first: fetch, rebuild on the new tip and push again" : nil)
                }
            }
        }
    }

    static func looksNonFastForward(_ text: String) -> Bool {
        let lower = text.lowercased()
        return ["non-fast-forward", "nonfastforward", "non-fastforward", "fetch first", "stale info",
                "not present locally", "fast forward", "fast-forward",
                // Another push updated the ref between the server's check and its write: git's receive-pack answers
                // `failed to update ref` (`cannot lock ref …: is at … but expected …`), libgit2's local transport that
                // the old value does not match, or, while the other writer still holds the ref's lock file, that it
                // failed to write the reference. The same race, lost by a little: rebuilt and pushed again.
                "failed to update ref", "cannot lock ref", "failed to lock", "incorrect old value",
                "old reference value does not match", "failed to write reference"].contains { lower.contains($0) }
    }

    /// The error for a failed network call: a callback's own error first, then a
    /// deadline/cancellation, then libgit2's. Call right after the failing call (same thread).
    static func networkError(_ rc: Int32, callbacks: RemoteCallbacks, operation: NetworkOperation) -> GitError {
        let underlying = GitError.fromLibgit2(rc, context: operation.target)
        if let error = callbacks.error { return error }
        if let aborted = operation.abortError(underlying: underlying) { return aborted }
        return underlying
    }
}
