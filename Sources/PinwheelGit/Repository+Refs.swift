import CGit2

extension Repository {
    /// The commit a local branch points to, or nil when the branch does not exist.
    public func branchTip(_ name: String) throws(GitError) -> ObjectID? {
        try locked { () throws(GitError) in try referenceTarget(Self.branchRef(name)) }
    }

    /// The commit any reference points to (peeled), or nil when it does not exist.
    public func referenceTarget(_ name: String) throws(GitError) -> ObjectID? {
        try locked { () throws(GitError) -> ObjectID? in
            var oid = git_oid()
            let rc = git_reference_name_to_id(&oid, handle, name)
            if rc == GIT_ENOTFOUND.rawValue { return nil }
            try check(rc, "read reference \(name)")
            return ObjectID(oid)
        }
    }

    /// Points reference `name` (full name, e.g. `refs/heads/main`) at `target`.
    /// With `expected`, the update only happens if the reference currently points there
    /// (compare-and-swap; ``GitError/Code/referenceChanged`` otherwise).
    public func setReference(_ name: String, to target: ObjectID, expected: ObjectID? = nil,
                             logMessage: String = "pinwheel: set reference") throws(GitError) {
        try locked { () throws(GitError) in
            var oid = target.oid
            var ref: OpaquePointer?
            if let expected {
                var current = expected.oid
                try check(git_reference_create_matching(&ref, handle, name, &oid, 1, &current, logMessage),
                          "move \(name) from \(expected.short) to \(target.short)")
            } else {
                try check(git_reference_create(&ref, handle, name, &oid, 1, logMessage), "set \(name) to \(target.short)")
            }
            git_reference_free(ref)
        }
    }

    /// Deletes a reference; a no-op when it does not exist.
    public func deleteReference(_ name: String) throws(GitError) {
        try locked { () throws(GitError) in
            var ref: OpaquePointer?
            let rc = git_reference_lookup(&ref, handle, name)
            if rc == GIT_ENOTFOUND.rawValue { return }
            try check(rc, "look up \(name)")
            defer { git_reference_free(ref) }
            try check(git_reference_delete(ref), "delete \(name)")
        }
    }

    /// Names of local branches (`main`, not `refs/heads/main`), sorted.
    public func branches() throws(GitError) -> [String] {
        try referenceNames(matching: "refs/heads/*").map { String($0.dropFirst("refs/heads/".count)) }
    }

    /// Names of remote-tracking branches (`origin/main`), sorted.
    public func remoteBranches() throws(GitError) -> [String] {
        try referenceNames(matching: "refs/remotes/*")
            .map { String($0.dropFirst("refs/remotes/".count)) }
            .filter { !$0.hasSuffix("/HEAD") }
    }

    /// Full reference names matching a glob, sorted.
    public func referenceNames(matching glob: String = "refs/*") throws(GitError) -> [String] {
        try locked { () throws(GitError) -> [String] in
            var array = git_strarray()
            try check(git_reference_list(&array, handle), "list references")
            defer { git_strarray_dispose(&array) }
            var names: [String] = []
            for i in 0..<array.count {
                if let s = array.strings[i] {
                    let name = String(cString: s)
                    if Self.globMatches(glob, name) { names.append(name) }
                }
            }
            return names.sorted()
        }
    }

    /// Every reference and its (peeled) target, used to tell whether a fetch changed anything.
    func referenceSnapshot() throws(GitError) -> [String: ObjectID] {
        var result: [String: ObjectID] = [:]
        for name in try referenceNames() {
            if let id = try? referenceTarget(name) { result[name] = id }
        }
        return result
    }

    /// Adds a remote, or changes its URL when it already exists.
    public func setRemote(_ name: String, url: String) throws(GitError) {
        try locked { () throws(GitError) in
            guard try remoteSettings(name) != nil else {
                var remote: OpaquePointer?
                try check(git_remote_create(&remote, handle, name, url), "add remote \(name) (\(url))")
                git_remote_free(remote)
                return
            }
            try check(git_remote_set_url(handle, name, url), "set URL of remote \(name) to \(url)")
        }
    }

    /// The URL of a remote, or nil when there is no such remote.
    public func remoteURL(_ name: String) throws(GitError) -> String? {
        try locked { () throws(GitError) -> String? in
            try remoteSettings(name)?.url
        }
    }

    static func branchRef(_ name: String) -> String {
        name.hasPrefix("refs/") ? name : "refs/heads/\(name)"
    }

    /// Minimal glob: `*` matches anything (including `/`), everything else literally.
    static func globMatches(_ glob: String, _ name: String) -> Bool {
        let parts = glob.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { return glob == name }
        guard name.hasPrefix(parts[0]) else { return false }
        var rest = Substring(name.dropFirst(parts[0].count))
        for (i, part) in parts.enumerated().dropFirst() {
            if i == parts.count - 1 { return part.isEmpty || rest.hasSuffix(part) }
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}
