/// How Pinwheel reaches a host and where things live on it. Every field may be set in `defaults` and per host.
public struct HostSettings: Sendable, Hashable, Codable {
    public var user: String?
    public var port: Int
    /// The private key used for SSH; nil uses the SSH agent.
    public var identity: String?
    /// The known-hosts file (relative paths are relative to the environment folder); host keys are always checked.
    public var knownHosts: String?
    /// Where the slots live on the host: `<root>/<environment>/slots/{A,B}`.
    public var root: String
    public var supervisor: SupervisorSettings
    public var nginx: NginxSettings

    public init(user: String? = nil, port: Int = 22, identity: String? = nil, knownHosts: String? = nil,
                root: String = "/srv/pinwheel", supervisor: SupervisorSettings = SupervisorSettings(),
                nginx: NginxSettings) {
        self.user = user
        self.port = port
        self.identity = identity
        self.knownHosts = knownHosts
        self.root = root
        self.supervisor = supervisor
        self.nginx = nginx
    }
}

public struct SupervisorSettings: Sendable, Hashable, Codable {
    /// The folder supervisord includes program configs from.
    public var include: String
    /// The `supervisorctl` command line, with whatever `-c` it needs.
    public var ctl: String

    public init(include: String = "/etc/supervisor/conf.d", ctl: String = "supervisorctl") {
        self.include = include
        self.ctl = ctl
    }
}

public struct NginxSettings: Sendable, Hashable, Codable {
    /// The upstream file Pinwheel owns; it lists the active slot's web processes.
    public var upstream: String
    /// Checks the configuration before a reload; a failure puts the previous upstream file back.
    public var test: String
    public var reload: String
    /// A URL fetched through nginx after a switch to prove the new slot answers; nil skips that check.
    public var check: String?
    /// Where Pinwheel's own probe server listens (`127.0.0.1:19123`), written into the upstream file it owns: it
    /// proxies to the active slot and names the slot and fingerprint, so after a reload Pinwheel sees when the new
    /// workers route to the new slot, with no change to the site's server block. Nil (`probe: off`) skips it.
    public var probe: String?

    public init(upstream: String, test: String = "nginx -t", reload: String = "nginx -s reload", check: String? = nil,
                probe: String? = nil) {
        self.upstream = upstream
        self.test = test
        self.reload = reload
        self.check = check
        self.probe = probe
    }

    /// The probe's default address: a loopback port derived from the app's name (19000–19999), so two apps on one
    /// host get different ports and the same app the same port on every host.
    public static func defaultProbe(app: String) -> String {
        // FNV-1a: stable across runs and platforms, unlike Swift's hashValue.
        var hash: UInt32 = 2_166_136_261
        for byte in app.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return "127.0.0.1:\(19000 + hash % 1000)"
    }
}
