/// One thing a host needs, as `pinwheel doctor` found it, and the command or edit that fixes it.
public struct HostCheck: Sendable, Hashable, Codable {
    /// What was checked: `ssh`, `python` (and `python (slot B)` for a slot's own interpreter), `uv`, `supervisord`, `supervisorctl`, `supervisor include folder`,
    /// `supervisor include`, `nginx`, `nginx -t`, `upstream folder`, `upstream included`, `switch verified`, `disk`, `root`,
    /// `clock` (and `doctor` when the doctor itself could not run).
    public var name: String
    public var ok: Bool
    /// A host lacking an optional check (uv, a verified switch) is still ready.
    public var optional: Bool
    /// What was found, in the host's words where it has them.
    public var detail: String
    /// What makes the check pass; nil when it passed.
    public var fix: String?

    public init(name: String, ok: Bool, optional: Bool = false, detail: String, fix: String? = nil) {
        self.name = name
        self.ok = ok
        self.optional = optional
        self.detail = detail
        self.fix = ok ? nil : fix
    }
}

/// Every check of one host.
public struct HostCheckup: Sendable, Hashable, Codable {
    public var host: String
    public var checks: [HostCheck]

    public init(host: String, checks: [HostCheck]) {
        self.host = host
        self.checks = checks
    }

    /// Whether Pinwheel can deploy to the host: every check that is not optional passed.
    public var ready: Bool { checks.allSatisfy { $0.ok || $0.optional } }

    /// The checks that did not pass, required first.
    public var problems: [HostCheck] {
        checks.filter { !$0.ok && !$0.optional } + checks.filter { !$0.ok && $0.optional }
    }
}
