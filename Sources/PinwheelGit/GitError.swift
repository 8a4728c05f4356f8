import CGit2

/// An error from the git layer.
///
/// Carries a stable ``Code`` that callers branch on (for example, fetch and retry on
/// ``Code/nonFastForward``), libgit2's own message and error class (for logs), and a
/// ``description`` meant for a person: what failed and, where we know, what to do.
public struct GitError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is. Extensible: match with `==`, not an exhaustive `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// An object, reference, path or repository does not exist.
        public static let notFound = Code("notFound")
        /// Something to be created already exists.
        public static let alreadyExists = Code("alreadyExists")
        /// Changes conflict (a revert or merge that cannot apply cleanly).
        public static let conflict = Code("conflict")
        /// A branch moved under us: its tip is not the expected parent.
        public static let referenceChanged = Code("referenceChanged")
        /// The remote rejected a push because it is not a fast-forward; fetch, rebuild, retry.
        public static let nonFastForward = Code("nonFastForward")
        /// A network operation ran past its deadline and was aborted.
        public static let timeout = Code("timeout")
        /// The operation was cancelled (Swift task cancellation).
        public static let cancelled = Code("cancelled")
        /// Authentication with the remote failed.
        public static let auth = Code("auth")
        /// The remote's TLS certificate or SSH host key is unknown or does not match.
        public static let certificate = Code("certificate")
        /// A revision string is malformed or does not name anything.
        public static let invalidRevision = Code("invalidRevision")
        /// The branch has no commits yet.
        public static let unborn = Code("unborn")
        /// An argument is invalid (path, branch name, ...).
        public static let invalidArgument = Code("invalidArgument")
        /// A lock file is held by someone else.
        public static let locked = Code("locked")
        /// A network failure other than a timeout.
        public static let network = Code("network")
        /// A path is (or goes through) a symbolic link, which is not followed: not in a commit's tree, not in
        /// the work tree.
        public static let symlink = Code("symlink")
        /// A path of the work tree resolves outside the repository.
        public static let outsideRepository = Code("outsideRepository")
        /// Anything else.
        public static let other = Code("other")
    }

    public var code: Code
    /// libgit2's message (from `git_error_last`), or ours when the failure is not libgit2's.
    public var message: String
    /// libgit2's error class (`GIT_ERROR_*`), 0 when not from libgit2.
    public var errorClass: Int32
    /// libgit2's return code, 0 when not from libgit2.
    public var returnCode: Int32
    /// What we were doing, e.g. "fetch from origin (file:///srv/repo.git)". URLs in it, and in `message` and
    /// `hint`, have their credentials redacted (``RemoteURL/redacted(_:)``).
    public var context: String
    /// Advice for the user, if any.
    public var hint: String?

    public init(_ code: Code, _ message: String, context: String = "", hint: String? = nil,
                errorClass: Int32 = 0, returnCode: Int32 = 0) {
        // A remote URL with a user and password or token in it is shown redacted wherever the error goes.
        self.code = code
        self.message = RemoteURL.redacted(message)
        self.context = RemoteURL.redacted(context)
        self.hint = hint.map { RemoteURL.redacted($0) }
        self.errorClass = errorClass
        self.returnCode = returnCode
    }

    public var description: String {
        var text = context.isEmpty ? message : "\(context): \(message)"
        if let hint { text += " (\(hint))" }
        return text
    }

    /// Builds an error from a failed libgit2 call. Must be called on the thread that made
    /// the call, right after it, because libgit2's last error is per thread.
    static func fromLibgit2(_ rc: Int32, context: String) -> GitError {
        var message = "libgit2 error \(rc)"
        var klass: Int32 = 0
        if let last = git_error_last() {
            klass = last.pointee.klass
            if let m = last.pointee.message { message = String(cString: m) }
        }
        let code = Self.code(forReturnCode: rc, errorClass: klass, message: message)
        var hint: String?
        switch code {
        case .auth:
            hint = "check the credentials; libssh2 1.10 cannot use RSA keys with modern OpenSSH servers, use an ed25519 key"
        case .certificate:
            hint = "add the server's host key to the known_hosts file"
        case .nonFastForward:
            hint = "someone else pushed first: fetch, rebuild on the new tip and push again"
        default: break
        }
        return GitError(code, message, context: context, hint: hint, errorClass: klass, returnCode: rc)
    }

    static func code(forReturnCode rc: Int32, errorClass klass: Int32, message: String) -> Code {
        switch rc {
        case GIT_ENOTFOUND.rawValue: return .notFound
        case GIT_EEXISTS.rawValue: return .alreadyExists
        case GIT_EUNBORNBRANCH.rawValue: return .unborn
        case GIT_ENONFASTFORWARD.rawValue: return .nonFastForward
        case GIT_EINVALIDSPEC.rawValue: return .invalidRevision
        case GIT_ECONFLICT.rawValue, GIT_EMERGECONFLICT.rawValue: return .conflict
        case GIT_ELOCKED.rawValue: return .locked
        case GIT_EMODIFIED.rawValue: return .referenceChanged
        case GIT_EAUTH.rawValue: return .auth
        case GIT_ECERTIFICATE.rawValue: return .certificate
        case GIT_EINVALID.rawValue: return .invalidArgument
        default: break
        }
        let lower = message.lowercased()
        if klass == Int32(GIT_ERROR_SSH.rawValue) {
            if lower.contains("authentication") || lower.contains("credentials") { return .auth }
            if lower.contains("hostkey") || lower.contains("host key") { return .certificate }
        }
        if lower.contains("timed out") { return .timeout }
        if klass == Int32(GIT_ERROR_NET.rawValue) || klass == Int32(GIT_ERROR_SSH.rawValue)
            || klass == Int32(GIT_ERROR_HTTP.rawValue) {
            if lower.contains("401") || lower.contains("authentication") { return .auth }
            return .network
        }
        if klass == Int32(GIT_ERROR_SSL.rawValue) { return .certificate }
        return .other
    }
}

/// Throws a ``GitError`` when a libgit2 call returned a negative code.
@discardableResult
func check(_ rc: Int32, _ context: @autoclosure () -> String) throws(GitError) -> Int32 {
    if rc < 0 { throw GitError.fromLibgit2(rc, context: context()) }
    return rc
}
