import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelGit
import PinwheelReleases

/// How `pinwheel watch` runs.
public struct ControllerConfiguration: Sendable {
    /// The config repository: a URL libgit2 can fetch (`ssh://`, `https://`, `file://`) or a local path.
    public var repository: String
    public var branch: String
    public var statusBranch: String
    /// How often the branch is polled.
    public var interval: Duration
    /// How often every host is observed to catch drift.
    public var driftInterval: Duration
    /// Where the bare cache clone lives.
    public var cacheDirectory: String
    /// The environments to manage; all when empty.
    public var environments: [String]
    public var remote: RemoteOptions
    /// Who the controller's commits (status, reverts) are by.
    public var authorName: String
    public var authorEmail: String
    /// The SSH control sockets' folder.
    public var controlDirectory: String
    /// The folders on this machine whose private keys and known-hosts files the config may name (`identity:`, an
    /// absolute `knownHosts:`); `~/.ssh` when empty.
    public var allowedIdentityFolders: [String]
    /// Whether hosts with `address: local` may run on this machine (`watch --allow-local-hosts`); refused otherwise.
    public var allowLocalHosts = false
    /// The most round trips to hosts open at once, across every environment (`watch --max-connections`).
    public var maxConnections = ControllerConfiguration.defaultMaxConnections
    /// Enough for a few environments of a hundred hosts to prepare at once, far below a machine's process limits.
    public static let defaultMaxConnections = 128

    /// What `allowedIdentityFolders` and `allowLocalHosts` allow.
    public var localFileTrust: LocalFileTrust { .allowing(allowedIdentityFolders, localHosts: allowLocalHosts) }

    /// Accept a new tip that does not descend from the last applied commit (a force-push or a rebase).
    public var allowHistoryRewrite: Bool
    /// The controller's trusted signing keys (an SSH allowed-signers file on this machine), checked when a policy says
    /// `verify: {signatures: required}`. Never read from the config repository: its own signers cannot vouch for it.
    public var allowedSigners: String?
    /// The controller's trusted OpenPGP public keys (a file on this machine, armored or binary), for commits signed
    /// with gpg, GitHub's web-flow merges among them.
    public var openPGPKeys: String?
    /// Every commit must be signed by a trusted key, in every environment (`watch --require-signatures`).
    public var requireSignatures = false
    /// The controller's own SSH private key (`watch --status-signing-key`): every status commit it writes is signed
    /// with it, so that after a restart it believes only what it wrote itself.
    public var statusSigningKey: String?
    /// More public keys whose statuses are believed (`--trusted-status-key`): a key being rotated out, another
    /// controller of the same repository.
    public var trustedStatusKeys: [String] = []
    /// The public keys a status must be signed by to be believed: the signing key's `.pub` and the trusted ones.
    /// Empty: statuses are trusted unsigned, as anyone who can push the status branch wrote them.
    public var statusPublicKeys: [String] {
        var keys: [String] = []
        if let key = statusSigningKey, FileManager.default.fileExists(atPath: key + ".pub") { keys.append(key + ".pub") }
        return keys + trustedStatusKeys
    }
    /// Whether statuses are believed only when signed by a trusted status key.
    public var verifiesStatuses: Bool { statusSigningKey != nil || !trustedStatusKeys.isEmpty }
    /// Every key the controller trusts, and its own signature rule.
    public var trustedKeys: TrustedKeys {
        TrustedKeys(allowedSigners: allowedSigners, openPGPKeys: openPGPKeys, requireSignatures: requireSignatures)
    }
    /// What the time is, for the policies' deploy windows (tests move it).
    public var now: @Sendable () -> Date
    /// Notification targets for every environment, besides each policy's `notify:` (`watch --notify`).
    public var notify: [NotifyTarget] = []
    /// The status page's base URL, e.g. `http://127.0.0.1:9420` (`watch --listen`): notifications link to
    /// `<statusPage>/#<environment>`.
    public var statusPage: String?
    /// Secret values the controller holds (the webhook secret, the page's access token, a git token): replaced by
    /// `[redacted]` in what the page, the API and notifications show of hosts' and programs' output.
    public var knownSecrets: [String] = []

    public init(repository: String, branch: String = "main", statusBranch: String = EnvironmentStatus.defaultBranch,
                interval: Duration = .seconds(5), driftInterval: Duration = .seconds(60), cacheDirectory: String? = nil,
                environments: [String] = [], remote: RemoteOptions = RemoteOptions(),
                authorName: String = "Pinwheel", authorEmail: String = "pinwheel@localhost",
                controlDirectory: String = SSHTransport.defaultControlDirectory, allowedIdentityFolders: [String] = [],
                allowHistoryRewrite: Bool = false, allowedSigners: String? = nil, openPGPKeys: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.repository = repository
        self.branch = branch
        self.statusBranch = statusBranch
        self.interval = interval
        self.driftInterval = driftInterval
        self.cacheDirectory = cacheDirectory ?? ControllerConfiguration.defaultCache(for: repository)
        self.environments = environments
        self.remote = remote
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.controlDirectory = controlDirectory
        self.allowedIdentityFolders = allowedIdentityFolders
        self.allowHistoryRewrite = allowHistoryRewrite
        self.allowedSigners = allowedSigners
        self.openPGPKeys = openPGPKeys
        self.now = now
    }

    /// `~/.cache/pinwheel/<name>-<digest of the URL>`: one cache per repository.
    public static func defaultCache(for repository: String) -> String {
        let home = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        let name = (repository as NSString).lastPathComponent.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return "\(home)/pinwheel/\(name.isEmpty ? "repo" : name)-\(ContentDigest.hex(of: repository.utf8).prefix(12))"
    }
}
