import CGit2
import Foundation

/// State shared with libgit2's remote callbacks for one operation.
///
/// Passed to libgit2 as an unretained payload: the operation keeps it alive (with
/// `withExtendedLifetime`) for the whole C call, so libgit2 calling callbacks any number
/// of times needs no retain/release to balance. Only touched on the operation's thread.
final class RemoteCallbacks {
    let options: RemoteOptions
    let operation: NetworkOperation
    let url: String
    /// A Swift error raised inside a callback, rethrown after the libgit2 call returns.
    var error: GitError?
    var credentialAttempts = 0
    /// Push statuses reported by the remote for rejected references.
    var rejections: [(ref: String, status: String)] = []

    init(options: RemoteOptions, operation: NetworkOperation, url: String) {
        self.options = options
        self.operation = operation
        self.url = url
    }

    /// Fills libgit2 callbacks pointing at this object.
    func install(into callbacks: inout git_remote_callbacks) {
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        callbacks.credentials = { out, url, username, allowed, payload in
            RemoteCallbacks.from(payload).acquireCredential(out, username: username.map { String(cString: $0) }, allowed: allowed)
        }
        callbacks.certificate_check = { cert, valid, host, payload in
            RemoteCallbacks.from(payload).checkCertificate(cert, valid: valid != 0, host: host.map { String(cString: $0) } ?? "")
        }
        callbacks.transfer_progress = { _, payload in
            RemoteCallbacks.from(payload).keepGoing()
        }
        callbacks.sideband_progress = { _, _, payload in
            RemoteCallbacks.from(payload).keepGoing()
        }
        callbacks.push_transfer_progress = { _, _, _, payload in
            RemoteCallbacks.from(payload).keepGoing()
        }
        callbacks.push_update_reference = { ref, status, payload in
            let me = RemoteCallbacks.from(payload)
            if let status {
                me.rejections.append((ref.map { String(cString: $0) } ?? "?", String(cString: status)))
            }
            return 0
        }
    }

    static func from(_ payload: UnsafeMutableRawPointer?) -> RemoteCallbacks {
        Unmanaged<RemoteCallbacks>.fromOpaque(payload!).takeUnretainedValue()
    }

    /// Progress callbacks: stop as soon as the deadline passed.
    func keepGoing() -> Int32 {
        if operation.isExpired {
            if error == nil { error = operation.abortError(underlying: nil) }
            return GIT_EUSER.rawValue
        }
        return 0
    }

    func acquireCredential(_ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, username: String?, allowed: UInt32) -> Int32 {
        if keepGoing() != 0 { return GIT_EUSER.rawValue }
        credentialAttempts += 1
        let hint = "libssh2 1.10 cannot use RSA keys with modern OpenSSH servers: use an ed25519 key"
        if credentialAttempts > 3 {
            error = GitError(.auth, "the remote refused the credentials", context: operation.target, hint: hint)
            return GIT_EAUTH.rawValue
        }
        let wantsUsername = allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0
        let rc: Int32
        switch options.credentials {
        case .none:
            return GIT_PASSTHROUGH.rawValue
        case .sshKey(let user, let privateKey, let publicKey, let passphrase):
            let name = username ?? user
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                guard FileManager.default.isReadableFile(atPath: privateKey) else {
                    error = GitError(.auth, "cannot read SSH private key \(privateKey)", context: operation.target)
                    return GIT_EAUTH.rawValue
                }
                rc = git_credential_ssh_key_new(out, name, publicKey, privateKey, passphrase)
            } else if wantsUsername {
                rc = git_credential_username_new(out, name)
            } else {
                error = GitError(.auth, "the remote does not accept SSH keys", context: operation.target)
                return GIT_EAUTH.rawValue
            }
        case .sshAgent(let user):
            let name = username ?? user
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                rc = git_credential_ssh_key_from_agent(out, name)
            } else if wantsUsername {
                rc = git_credential_username_new(out, name)
            } else {
                error = GitError(.auth, "the remote does not accept SSH keys", context: operation.target)
                return GIT_EAUTH.rawValue
            }
        case .token(let variable):
            guard allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else {
                error = GitError(.auth, "the remote does not accept a token (is this an ssh URL?)", context: operation.target)
                return GIT_EAUTH.rawValue
            }
            guard let token = ProcessInfo.processInfo.environment[variable], !token.isEmpty else {
                error = GitError(.auth, "environment variable \(variable) with the access token is not set", context: operation.target)
                return GIT_EAUTH.rawValue
            }
            rc = git_credential_userpass_plaintext_new(out, "x-access-token", token)
        }
        if rc < 0 {
            error = GitError.fromLibgit2(rc, context: "\(operation.target): prepare credentials")
            error?.code = .auth
        }
        return rc
    }

    func checkCertificate(_ cert: UnsafeMutablePointer<git_cert>?, valid: Bool, host: String) -> Int32 {
        if keepGoing() != 0 { return GIT_EUSER.rawValue }
        guard let cert else { return GIT_ECERTIFICATE.rawValue }
        guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else {
            // TLS: let libgit2 decide with the system's trust store.
            return GIT_PASSTHROUGH.rawValue
        }
        let hostkey = UnsafeMutableRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
        guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey, hostkey.hostkey_len > 0 else {
            error = GitError(.certificate, "the SSH library did not expose the host key of \(host)", context: operation.target)
            return GIT_ECERTIFICATE.rawValue
        }
        let key = raw.withMemoryRebound(to: UInt8.self, capacity: hostkey.hostkey_len) {
            Array(UnsafeBufferPointer(start: $0, count: hostkey.hostkey_len))
        }
        let port = Self.sshPort(of: url)
        let path = options.knownHostsPath
        let knownHosts: KnownHosts
        do {
            knownHosts = try KnownHosts(contentsOf: path)
        } catch {
            self.error = error
            self.error?.context = operation.target
            return GIT_ECERTIFICATE.rawValue
        }
        let name = KnownHosts.lookupName(host: host, port: port)
        switch knownHosts.verify(host: host, port: port, key: key) {
        case .trusted:
            return 0
        case .unknownHost:
            error = GitError(.certificate, "host \(name) is not in \(path)", context: operation.target,
                             hint: "add its key (ssh-keyscan, then check the fingerprint) to the known_hosts file")
        case .mismatch:
            error = GitError(.certificate, "the host key of \(name) does not match \(path)", context: operation.target,
                             hint: "the server key changed or someone is intercepting the connection; check before updating known_hosts")
        case .revoked:
            error = GitError(.certificate, "the host key of \(name) is marked @revoked in \(path)", context: operation.target)
        }
        return GIT_ECERTIFICATE.rawValue
    }

    /// The port of an ssh URL: `ssh://user@host:2222/path` → 2222; scp-like → 22.
    static func sshPort(of url: String) -> Int {
        guard url.hasPrefix("ssh://") || url.hasPrefix("ssh+git://") || url.hasPrefix("git+ssh://"),
              let components = URLComponents(string: url), let port = components.port else { return 22 }
        return port
    }
}
