import CGit2

extension Repository {
    /// The signature block of a signed commit (`gpgsig` header: an OpenPGP or SSH
    /// signature) and the exact bytes it signs, for verification by the caller; nil when
    /// the commit is unsigned.
    public func signature(of commit: ObjectID) throws(GitError) -> (signature: String, signedData: String)? {
        try locked { () throws(GitError) -> (signature: String, signedData: String)? in
            var sig = git_buf()
            var data = git_buf()
            defer {
                git_buf_dispose(&sig)
                git_buf_dispose(&data)
            }
            var oid = commit.oid
            let rc = git_commit_extract_signature(&sig, &data, handle, &oid, nil)
            if rc == GIT_ENOTFOUND.rawValue {
                // Either the commit is missing or it is unsigned: tell them apart.
                let c = try lookupCommit(commit)
                git_commit_free(c)
                return nil
            }
            try check(rc, "read signature of \(commit.short)")
            return (Self.string(sig), Self.string(data))
        }
    }

    static func string(_ buf: git_buf) -> String {
        guard let ptr = buf.ptr, buf.size > 0 else { return "" }
        return ptr.withMemoryRebound(to: UInt8.self, capacity: buf.size) {
            String(decoding: UnsafeBufferPointer(start: $0, count: buf.size), as: UTF8.self)
        }
    }
}
