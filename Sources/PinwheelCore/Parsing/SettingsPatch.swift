import Yams

/// Host settings as written in `defaults` or on one host: every field optional, merged field by field.
struct SettingsPatch {
    static let keys = ["user", "port", "identity", "knownHosts", "root", "supervisor", "nginx"]

    var user: String?
    var port: Int?
    var identity: String?
    var knownHosts: (value: String, node: Node)?
    var root: String?
    var supervisorInclude: String?
    var supervisorCtl: String?
    var nginxUpstream: String?
    var nginxTest: String?
    var nginxReload: String?
    var nginxCheck: String?
    /// nil: not set; `.some(nil)`: `probe: off`.
    var nginxProbe: String??
    /// Where each command (`supervisor.ctl`, `nginx.test`, `nginx.reload`) was set, for errors the host's `root`
    /// decides (see ``HostCommandRules/pathInside(_:root:)``).
    var commandNodes: [String: Node] = [:]

    /// Reads the setting keys of `fields` (other keys are the caller's), reporting bad values.
    init(_ fields: Fields, reader: ConfigReader, context: String) {
        if let node = fields["user"], let value = reader.string(node, "`user`\(context)") {
            if ValueRules.isUserName(value) {
                user = value
            } else {
                reader.error("`user`\(context) must be a user name (lowercase letters, digits, `_`, `-`), found `\(Quote.excerpt(value))`", at: node)
            }
        }
        if let node = fields["port"] {
            port = reader.integer(node, "`port`\(context)", in: 1...65535)
        }
        if let node = fields["identity"], let value = reader.string(node, "`identity`\(context)") {
            if ValueRules.isLocalPath(value) {
                identity = value
            } else {
                reader.error("`identity`\(context) must be the path of a private key file, found `\(Quote.excerpt(value))`", at: node,
                             hint: "paths may contain letters, digits and `._/+@,=-`, and may start with `~/`")
            }
        }
        if let node = fields["knownHosts"], let value = reader.string(node, "`knownHosts`\(context)") {
            if ValueRules.isLocalPath(value) {
                knownHosts = (value, node)
            } else {
                reader.error("`knownHosts`\(context) must be the path of a known-hosts file, found `\(Quote.excerpt(value))`", at: node,
                             hint: "a path relative to the environment folder, or an absolute one")
            }
        }
        if let node = fields["root"] {
            root = Self.absolutePath(node, "`root`\(context)", reader: reader)
        }
        if let node = fields["supervisor"],
           let nested = reader.mapping(node, "`supervisor`\(context)", optional: ["include", "ctl"]) {
            supervisorInclude = nested["include"].flatMap { Self.absolutePath($0, "`supervisor.include`\(context)", reader: reader) }
            if let node = nested["ctl"] {
                let value = command(node, "supervisor.ctl", context, reader: reader)
                supervisorCtl = value
            }
        }
        if let node = fields["nginx"],
           let nested = reader.mapping(node, "`nginx`\(context)", optional: ["upstream", "test", "reload", "check", "probe"]) {
            nginxUpstream = nested["upstream"].flatMap { Self.absolutePath($0, "`nginx.upstream`\(context)", reader: reader) }
            if let node = nested["test"] {
                let value = command(node, "nginx.test", context, reader: reader)
                nginxTest = value
            }
            if let node = nested["reload"] {
                let value = command(node, "nginx.reload", context, reader: reader)
                nginxReload = value
            }
            if let node = nested["check"], let value = reader.string(node, "`nginx.check`\(context)") {
                if let problem = ValueRules.urlProblem(value) {
                    reader.error("`nginx.check`\(context) \(problem), found `\(Quote.excerpt(value))`", at: node)
                } else {
                    nginxCheck = value
                }
            }
            if let node = nested["probe"], let value = reader.string(node, "`nginx.probe`\(context)") {
                if value == "off" {
                    nginxProbe = .some(nil)
                } else if ValueRules.isLoopbackEndpoint(value) {
                    nginxProbe = .some(value)
                } else {
                    reader.error("`nginx.probe`\(context) must be a loopback address and port such as `127.0.0.1:19100`, or `off`, found `\(Quote.excerpt(value))`", at: node)
                }
            }
        }
    }

    init() {}

    /// `self` with the fields that `other` sets replaced.
    func overridden(by other: SettingsPatch) -> SettingsPatch {
        var merged = self
        merged.user = other.user ?? user
        merged.port = other.port ?? port
        merged.identity = other.identity ?? identity
        merged.knownHosts = other.knownHosts ?? knownHosts
        merged.root = other.root ?? root
        merged.supervisorInclude = other.supervisorInclude ?? supervisorInclude
        merged.supervisorCtl = other.supervisorCtl ?? supervisorCtl
        merged.nginxUpstream = other.nginxUpstream ?? nginxUpstream
        merged.nginxTest = other.nginxTest ?? nginxTest
        merged.nginxReload = other.nginxReload ?? nginxReload
        merged.nginxCheck = other.nginxCheck ?? nginxCheck
        merged.nginxProbe = other.nginxProbe ?? nginxProbe
        merged.commandNodes.merge(other.commandNodes) { _, theirs in theirs }
        return merged
    }

    /// The effective settings, with built-in defaults for what nobody set.
    func settings(app: String) -> HostSettings {
        let supervisor = SupervisorSettings()
        let nginx = NginxSettings(upstream: "/etc/nginx/pinwheel/\(app).conf")
        return HostSettings(
            user: user,
            port: port ?? 22,
            identity: identity,
            knownHosts: knownHosts?.value,
            root: root ?? "/srv/pinwheel",
            supervisor: SupervisorSettings(include: supervisorInclude ?? supervisor.include, ctl: supervisorCtl ?? supervisor.ctl),
            nginx: NginxSettings(upstream: nginxUpstream ?? nginx.upstream, test: nginxTest ?? nginx.test,
                                 reload: nginxReload ?? nginx.reload, check: nginxCheck,
                                 probe: nginxProbe ?? NginxSettings.defaultProbe(app: app))
        )
    }

    private static func absolutePath(_ node: Node, _ what: String, reader: ConfigReader) -> String? {
        guard let value = reader.string(node, what) else { return nil }
        guard ValueRules.isAbsolutePath(value) else {
            reader.error("\(what) must be an absolute path, found `\(Quote.excerpt(value))`", at: node,
                         hint: "start with `/`; paths may contain letters, digits and `._/+@,=-`, and no `..`")
            return nil
        }
        return value
    }

    /// A command's text when it is an argument vector ``HostCommandRules`` allows; reports why not otherwise.
    private mutating func command(_ node: Node, _ key: String, _ context: String, reader: ConfigReader) -> String? {
        let what = "`\(key)`\(context)"
        guard let value = reader.string(node, what) else { return nil }
        if let problem = ValueRules.commandProblem(value) ?? HostCommandRules.problem(value, key: key) {
            reader.error("\(what) \(problem)", at: node,
                         hint: "e.g. `\(key == "supervisor.ctl" ? "supervisorctl -c /etc/supervisor/supervisord.conf" : key == "nginx.test" ? "nginx -t" : "sudo -n systemctl reload nginx")`")
            return nil
        }
        commandNodes[key] = node
        return value
    }
}
