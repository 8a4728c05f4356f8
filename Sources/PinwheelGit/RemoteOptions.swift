import Foundation

/// How to talk to a remote: credentials, host key trust, and a deadline.
public struct RemoteOptions: Sendable {
    /// Credentials offered when the remote asks for them.
    public enum Credentials: Sendable, Hashable {
        /// Offer nothing (public https, file:// and local paths).
        case none
        /// An SSH private key file. libssh2 1.10 cannot sign with RSA (rsa-sha2) against
        /// modern OpenSSH servers: use an ed25519 key.
        case sshKey(user: String, privateKey: String, publicKey: String? = nil, passphrase: String? = nil)
        /// Keys from the running ssh-agent (`SSH_AUTH_SOCK`).
        case sshAgent(user: String)
        /// An https token read from an environment variable at connection time, sent as
        /// the password of user `x-access-token` (GitHub/Gitea/GitLab style).
        case token(environmentVariable: String)
    }

    public var credentials: Credentials
    /// OpenSSH known_hosts file used to verify SSH host keys. nil means `~/.ssh/known_hosts`.
    /// Unknown or mismatched keys are always refused (``GitError/Code/certificate``).
    public var knownHosts: String?
    /// The whole operation (connect, negotiate, transfer) is aborted with
    /// ``GitError/Code/timeout`` when this much time has passed.
    public var deadline: Duration

    public init(credentials: Credentials = .none, knownHosts: String? = nil, deadline: Duration = .seconds(30)) {
        self.credentials = credentials
        self.knownHosts = knownHosts
        self.deadline = deadline
    }

    /// The known_hosts file actually used.
    var knownHostsPath: String {
        if let knownHosts { return knownHosts }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.ssh/known_hosts"
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
