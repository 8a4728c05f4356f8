import Foundation
import Yams

/// Reads `Environments/<name>/environment.yaml` (and the slot files it names) into an `Environment`.
///
/// Reports every problem it finds; returns an environment only when there were none.
struct EnvironmentParser {
    /// What the parser needs from the rest of the repository.
    struct Context {
        /// The environment's folder, e.g. `Environments/production`.
        var folder: String
        /// The bytes of a file relative to the repository root; a refusal (a link) is already reported.
        var readFile: (String) -> ConfigLoader.FileRead
        /// The policy of that name, nil (with its errors already reported) when it is missing or invalid.
        var policy: (String) -> PolicyLookup
    }

    enum PolicyLookup {
        case found(Policy)
        case invalid
        case missing(known: [String])
    }

    let name: String
    let reader: ConfigReader
    let context: Context

    private var log: DiagnosticLog { reader.log }

    func parse() -> Environment? {
        let errorsBefore = log.diagnostics.count
        let environment = parseFields()
        let failed = log.diagnostics[errorsBefore...].contains { $0.severity == .error }
        return failed ? nil : environment
    }

    private func parseFields() -> Environment? {
        if !ValueRules.isIdentifier(name) {
            log.error("the environment name `\(name)` is not a valid name", at: SourceLocation(path: reader.path),
                      hint: "rename the folder: a letter, then letters, digits, `-` or `_`")
        }
        let required = ["app", "python", "source", "active", "slots", "programs", "policy", "hosts"]
        guard let root = reader.mapping(reader.document.root, "environment.yaml", required: required, optional: ["defaults", "hooks"]) else {
            return nil
        }
        let app = root["app"].flatMap { identifier($0, "`app`") }
        let python = root["python"].flatMap { node -> String? in
            guard let value = reader.string(node, "`python`") else { return nil }
            guard ValueRules.isAbsolutePath(value) else {
                reader.error("`python` must be the absolute path of an interpreter on the hosts, found `\(Quote.excerpt(value))`", at: node,
                             hint: "for example `/usr/bin/python3`")
                return nil
            }
            return value
        }
        let source = root["source"].flatMap(parseSource)
        let active = root["active"].flatMap { reader.choice($0, "`active`", as: Slot.self) }
        // The policy first: it may require a hash on every pin of the slot files.
        let policy = root["policy"].flatMap(parsePolicy)
        let hashesRequiredBy = policy.flatMap { $0.requireHashes ? $0.name : nil }
        let shipped: Bool
        if case .ship = source { shipped = true } else { shipped = false }
        let slots = root["slots"].flatMap { parseSlots($0, python: python, hashesRequiredBy: hashesRequiredBy, shipped: shipped) }
        let programs = root["programs"].flatMap(parsePrograms)
        var defaults = SettingsPatch()
        if let node = root["defaults"], let fields = reader.mapping(node, "`defaults`", optional: SettingsPatch.keys) {
            defaults = SettingsPatch(fields, reader: reader, context: " in `defaults`")
        }
        let hosts = root["hosts"].flatMap { parseHosts($0, defaults: defaults, app: app ?? "app", programs: programs ?? []) }

        var hooks: ReleaseHooks? = ReleaseHooks()
        if let node = root["hooks"] { hooks = parseHooks(node, programs: programs ?? []) }

        guard let app, let python, let source, let active, let slots, let programs, let policy, let hosts, let hooks else { return nil }
        return Environment(name: name, app: app, python: python, source: source, active: active, slots: slots,
                           programs: programs, policy: policy, hosts: hosts, hooks: hooks)
    }

    // MARK: Sections

    private func identifier(_ node: Node, _ what: String) -> String? {
        guard let value = reader.string(node, what) else { return nil }
        guard ValueRules.isIdentifier(value) else {
            reader.error("\(what) must be a name: a letter, then letters, digits, `-` or `_` (63 at most), found `\(Quote.excerpt(value))`", at: node)
            return nil
        }
        return value
    }

    private func parseSource(_ node: Node) -> PackageSource? {
        guard let fields = reader.mapping(node, "`source`", optional: ["index", "wheelhouse", "ship"]) else { return nil }
        let given = ["index", "wheelhouse", "ship"].filter { fields[$0] != nil }
        guard given.count == 1 else {
            if given.isEmpty {
                reader.error("`source` must set `index` (a package index URL), `wheelhouse` (a folder of wheels on each host) "
                             + "or `ship` (artifacts the controller sends the hosts)", at: node)
            } else {
                let named = given.map { "`\($0)`" }
                reader.error("`source` sets \(named.count == 2 ? "both " : "")\(named.dropLast().joined(separator: ", ")) and \(named.last!); choose one",
                             at: node)
            }
            return nil
        }
        if let indexNode = fields["index"] {
            guard let url = indexURL(indexNode, "`source.index`") else { return nil }
            return .index(url)
        }
        if let shipNode = fields["ship"] {
            return parseShip(shipNode)
        }
        guard let wheelNode = fields["wheelhouse"], let path = reader.string(wheelNode, "`source.wheelhouse`") else { return nil }
        guard ValueRules.isAbsolutePath(path) else {
            reader.error("`source.wheelhouse` must be an absolute path on the hosts, found `\(Quote.excerpt(path))`", at: wheelNode)
            return nil
        }
        return .wheelhouse(path)
    }

    private func indexURL(_ node: Node, _ what: String) -> String? {
        guard let url = reader.string(node, what) else { return nil }
        if let problem = ValueRules.urlProblem(url) {
            reader.error("\(what) \(problem), found `\(Quote.excerpt(url))`", at: node,
                         hint: problem.contains("credentials") ? "give hosts their index credentials in pip's or uv's own config" : "for example `https://pypi.example.com/simple/`")
            return nil
        }
        return url
    }

    /// `ship: {index: URL}` or `ship: {wheels: /path/on/the/controller}`, and optionally `uv: VERSION`.
    private func parseShip(_ node: Node) -> PackageSource? {
        guard let fields = reader.mapping(node, "`source.ship`", optional: ["index", "wheels", "uv"]) else { return nil }
        var uv: String?
        if let uvNode = fields["uv"] {
            guard let version = reader.string(uvNode, "`source.ship.uv`") else { return nil }
            guard ValueRules.isExactUVVersion(version) else {
                reader.error("`source.ship.uv` must be an exact uv version (digits and dots), found `\(Quote.excerpt(version))`",
                             at: uvNode, hint: "for example `uv: 0.13.9`; quote it when YAML would read it as a number")
                return nil
            }
            uv = version
        }
        return parseShipOrigin(fields, node).map { PackageSource.ship($0, uv: uv) }
    }

    private func parseShipOrigin(_ fields: Fields, _ node: Node) -> ShipOrigin? {
        switch (fields["index"], fields["wheels"]) {
        case (nil, nil):
            reader.error("`source.ship` must set `index` (the package index the controller reaches) or `wheels` (a folder of "
                         + "wheels on the controller's machine)", at: node,
                         hint: "for example `ship: {index: https://pypi.org/simple/}` or `ship: {wheels: /srv/pinwheel/wheels}`")
            return nil
        case (.some, .some):
            reader.error("`source.ship` sets both `index` and `wheels`; choose one", at: node)
            return nil
        case let (.some(indexNode), nil):
            return indexURL(indexNode, "`source.ship.index`").map(ShipOrigin.index)
        case let (nil, .some(wheelNode)):
            guard let path = reader.string(wheelNode, "`source.ship.wheels`") else { return nil }
            guard ValueRules.isAbsolutePath(path) else {
                reader.error("`source.ship.wheels` must be an absolute path on the controller's machine, found `\(Quote.excerpt(path))`",
                             at: wheelNode, hint: "for example `/var/lib/pinwheel/wheels`, synced from a machine that reaches an index")
                return nil
            }
            return .folder(path)
        }
    }

    /// `python` is the environment's interpreter (nil when it is not valid), for the slots that name none of their own;
    /// `hashesRequiredBy` names the policy that requires a hash on every pin, if one does.
    /// With `shipped` (`source: {ship: …}`) every pin needs a hash too: the hash is how the controller finds the file.
    private func parseSlots(_ node: Node, python environmentPython: String?, hashesRequiredBy: String?, shipped: Bool) -> PerSlot<SlotPins>? {
        guard let entries = reader.namedMapping(node, "`slots`") else { return nil }
        var found: [Slot: SlotPins] = [:]
        var files: [String: String] = [:]
        var failed = false
        for entry in entries {
            guard let slot = Slot(rawValue: entry.name) else {
                reader.error("unknown slot `\(entry.name)`", at: entry.keyNode, hint: "an environment has exactly two slots, `A` and `B`")
                failed = true
                continue
            }
            var fileNode = entry.value
            var python: String?
            if case .mapping = entry.value {
                // The long form: `A: {pins: A.txt, python: /usr/bin/python3.12}`.
                guard let fields = reader.mapping(entry.value, "slot `\(slot)`", required: ["pins"], optional: ["python"]),
                      let pinsNode = fields["pins"] else {
                    failed = true
                    continue
                }
                fileNode = pinsNode
                if let node = fields["python"] {
                    guard let value = reader.string(node, "`python` of slot `\(slot)`"), ValueRules.isAbsolutePath(value) else {
                        reader.error("`python` of slot `\(slot)` must be the absolute path of an interpreter on the hosts", at: node,
                                     hint: "for example `/usr/bin/python3.12`")
                        failed = true
                        continue
                    }
                    python = value
                }
            }
            guard let file = reader.string(fileNode, "slot `\(slot)`") else {
                failed = true
                continue
            }
            guard ValueRules.isRelativeFile(file) else {
                reader.error("slot `\(slot)` must name a requirements file beside environment.yaml, found `\(Quote.excerpt(file))`", at: fileNode,
                             hint: "for example `\(slot).txt`")
                failed = true
                continue
            }
            if let other = files[file] {
                reader.error("slots `\(other)` and `\(slot)` name the same file `\(file)`", at: fileNode,
                             hint: "each slot needs its own file, for example `A.txt` and `B.txt`")
                failed = true
                continue
            }
            files[file] = slot.rawValue
            let path = "\(context.folder)/\(file)"
            let read = context.readFile(path)
            if case .failed = read {
                failed = true
                continue
            }
            guard case .data(let data) = read else {
                reader.error("slot `\(slot)` names `\(file)`, which does not exist in \(context.folder)/", at: fileNode,
                             hint: "create it with the slot's pins (`pip freeze` or `uv pip compile` output)")
                failed = true
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                log.error("the slot file is not UTF-8 text", at: SourceLocation(path: path))
                failed = true
                continue
            }
            let pins: [Pin]
            if PylockParser.isLockFileName(file) {
                let facts = (python ?? environmentPython).map { MarkerFacts.linux(interpreter: $0) } ?? .nothing
                pins = PylockParser(path: path, log: log, facts: facts).parse(text)
            } else if file.hasSuffix(".toml") {
                reader.error("slot `\(slot)` names `\(Quote.excerpt(file))`, a TOML file not named as PEP 751 names lock files", at: fileNode,
                             hint: "name it `pylock.\(slot).toml` (or `pylock.toml`), as `uv pip compile --format pylock.toml -o pylock.\(slot).toml` writes it")
                failed = true
                continue
            } else {
                pins = RequirementsParser(path: path, log: log, hashesRequiredBy: hashesRequiredBy, hashesRequiredByShipping: shipped).parse(text)
            }
            found[slot] = SlotPins(file: file, pins: pins, python: python)
        }
        for slot in Slot.allCases where found[slot] == nil && !entries.contains(where: { $0.name == slot.rawValue }) {
            reader.error("`slots` is missing slot `\(slot)`", at: node, hint: "an environment has exactly two slots, `A` and `B`")
            failed = true
        }
        guard !failed, let a = found[.a], let b = found[.b] else { return nil }
        return PerSlot(a: a, b: b)
    }

    private func parsePrograms(_ node: Node) -> [Program]? {
        guard let entries = reader.namedMapping(node, "`programs`") else { return nil }
        guard !entries.isEmpty else {
            reader.error("`programs` is empty", at: node, hint: "name at least one program to run in each slot")
            return nil
        }
        var programs: [Program] = []
        var failed = false
        for entry in entries {
            if let program = parseProgram(entry.name, keyNode: entry.keyNode, entry.value) {
                programs.append(program)
            } else {
                failed = true
            }
        }
        return failed ? nil : programs.sorted { $0.name < $1.name }
    }

    private func parseProgram(_ name: String, keyNode: Node, _ node: Node) -> Program? {
        let errorsBefore = log.diagnostics.count
        if !ValueRules.isIdentifier(name) {
            reader.error("program name `\(name)` must be a name: a letter, then letters, digits, `-` or `_`", at: keyNode)
        }
        let what = "program `\(name)`"
        guard let fields = reader.mapping(node, what, required: ["command"], optional: ["processes", "port", "health"] + ProgramSettings.keys) else {
            return nil
        }
        var command: String?
        if let node = fields["command"], let value = reader.string(node, "`command` of \(what)") {
            if let problem = ValueRules.commandProblem(value) {
                reader.error("`command` of \(what) \(problem)", at: node)
            } else {
                command = value
            }
        }
        let processes = fields["processes"].map { reader.integer($0, "`processes` of \(what)", in: 1...64) } ?? 1
        let ports = fields["port"].flatMap { slotPorts($0, "`port` of \(what)") }
        var health: HealthCheck?
        if let node = fields["health"] {
            health = parseHealth(node, what)
            if fields["port"] == nil {
                reader.error("\(what) has a `health` check but no `port`", at: node,
                             hint: "health checks are HTTP requests to the program's port; remove `health` or add `port: {A: ..., B: ...}`")
            }
        } else if let portNode = fields["port"] {
            reader.error("\(what) has a `port` but no `health` check", at: portNode,
                         hint: "add `health: {path: /healthz}` so traffic only moves to processes that answer")
        }
        if let commandNode = fields["command"], let command {
            checkPlaceholders(command, node: commandNode, what: what, hasPort: fields["port"] != nil)
        }
        let settings = parseSettings(fields, what, isWeb: fields["port"] != nil)
        guard log.diagnostics.count == errorsBefore, let command, let processes, let settings else { return nil }
        return Program(name: name, command: command, processes: processes, ports: ports, health: health, settings: settings)
    }

    private func checkPlaceholders(_ command: String, node: Node, what: String, hasPort: Bool) {
        var rest = Substring(command)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                reader.error("`command` of \(what) has a `{` without a matching `}`", at: node,
                             hint: "the placeholders are `{port}` and `{address}`")
                return
            }
            let placeholder = String(rest[rest.index(after: open)..<close])
            if placeholder != "port" && placeholder != "address" {
                reader.error("`command` of \(what) has an unknown placeholder `{\(placeholder)}`", at: node,
                             hint: ConfigReader.suggestion(for: placeholder, among: ["port", "address"]))
            } else if placeholder == "port" && !hasPort {
                reader.error("`command` of \(what) uses `{port}` but the program has no `port`", at: node,
                             hint: "add `port: {A: ..., B: ...}` to the program")
            }
            rest = rest[rest.index(after: close)...]
        }
    }

    private func slotPorts(_ node: Node, _ what: String) -> PerSlot<Int>? {
        guard let fields = reader.mapping(node, what, required: ["A", "B"]) else { return nil }
        let a = fields["A"].flatMap { reader.integer($0, "\(what) for slot A", in: 1...65535) }
        let b = fields["B"].flatMap { reader.integer($0, "\(what) for slot B", in: 1...65535) }
        guard let a, let b else { return nil }
        return PerSlot(a: a, b: b)
    }

    private func parseHealth(_ node: Node, _ what: String) -> HealthCheck? {
        guard let fields = reader.mapping(node, "`health` of \(what)", required: ["path"], optional: ["status", "timeout"]) else {
            return nil
        }
        var check = HealthCheck()
        var failed = false
        if let node = fields["path"] {
            if let path = reader.string(node, "`health.path` of \(what)") {
                if ValueRules.isURLPath(path) {
                    check.path = path
                } else {
                    reader.error("`health.path` of \(what) must be a URL path starting with `/`, such as `/healthz`, found `\(Quote.excerpt(path))`", at: node)
                    failed = true
                }
            } else {
                failed = true
            }
        }
        if let node = fields["status"] {
            if let status = reader.integer(node, "`health.status` of \(what)", in: 100...599) { check.status = status } else { failed = true }
        }
        if let node = fields["timeout"] {
            if let timeout = reader.duration(node, "`health.timeout` of \(what)", in: .init(milliseconds: 1)...ConfigDuration.seconds(300)) {
                check.timeout = timeout
            } else {
                failed = true
            }
        }
        return failed ? nil : check
    }

    private func parsePolicy(_ node: Node) -> Policy? {
        guard let name = identifier(node, "`policy`") else { return nil }
        switch context.policy(name) {
        case let .found(policy):
            return policy
        case .invalid:
            reader.error("policy `\(name)` has errors (reported in Policies/\(name).yaml)", at: node)
            return nil
        case let .missing(known):
            reader.error("policy `\(name)` does not exist: there is no Policies/\(name).yaml", at: node,
                         hint: ConfigReader.suggestion(for: name, among: known) ?? "create Policies/\(name).yaml")
            return nil
        }
    }

    // MARK: Hosts

    private func parseHosts(_ node: Node, defaults: SettingsPatch, app: String, programs: [Program]) -> [FleetHost]? {
        guard let items = reader.sequence(node, "`hosts`") else { return nil }
        guard !items.isEmpty else {
            reader.error("`hosts` is empty", at: node, hint: "list at least one host with its `name` and `address`")
            return nil
        }
        var hosts: [(host: FleetHost, node: Node)] = []
        var failed = false
        for (index, item) in items.enumerated() {
            if let host = parseHost(item, index: index, defaults: defaults, app: app, programs: programs) {
                hosts.append((host, item))
            } else {
                failed = true
            }
        }
        if !checkUnique(hosts) { failed = true }
        return failed ? nil : hosts.map(\.host)
    }

    private func parseHost(_ node: Node, index: Int, defaults: SettingsPatch, app: String, programs: [Program]) -> FleetHost? {
        let errorsBefore = log.diagnostics.count
        let what = "host #\(index + 1)"
        guard let fields = reader.mapping(node, what, required: ["name", "address"], optional: SettingsPatch.keys + ["programs"]) else {
            return nil
        }
        var name: String?
        if let nameNode = fields["name"], let value = reader.string(nameNode, "`name` of \(what)") {
            if ValueRules.isHostName(value) {
                name = value
            } else {
                reader.error("host name `\(value)` may only contain letters, digits, `.`, `-` and `_`", at: nameNode)
            }
        }
        let label = name.map { "host `\($0)`" } ?? what
        var address: String?
        if let addressNode = fields["address"], let value = reader.string(addressNode, "`address` of \(label)") {
            if ValueRules.isAddress(value) {
                address = value
            } else {
                reader.error("`address` of \(label) must be an IP address, a DNS name or `local`, found `\(Quote.excerpt(value))`", at: addressNode)
            }
        }
        let patch = defaults.overridden(by: SettingsPatch(fields, reader: reader, context: " of \(label)"))
        var settings = patch.settings(app: app)
        let commands = ["supervisor.ctl": settings.supervisor.ctl, "nginx.test": settings.nginx.test, "nginx.reload": settings.nginx.reload]
        for (key, text) in commands.sorted(by: { $0.key < $1.key }) {
            if let node = patch.commandNodes[key], let path = HostCommandRules.pathInside(text, root: settings.root) {
                reader.error("`\(key)` of \(label) names \(path), inside its deploy root \(settings.root), whose files "
                             + "packages choose (or climbs out with `..`)", at: node,
                             hint: "name the host's own files, outside `root`")
            }
        }
        let isLocal = address == "local"
        if !isLocal {
            if settings.user == nil {
                reader.error("\(label) has no `user` to log in as", at: node, hint: "set `user` in `defaults` or on the host")
            }
            if patch.knownHosts == nil {
                reader.error("\(label) has no `knownHosts` file; host keys are always checked", at: node,
                             hint: "set `knownHosts` in `defaults` (e.g. a `known_hosts` file beside environment.yaml made with `ssh-keyscan`)")
            }
        }
        if let knownHosts = patch.knownHosts, !knownHosts.value.hasPrefix("/"), !knownHosts.value.hasPrefix("~/"), !isLocal {
            let path = "\(context.folder)/\(knownHosts.value)"
            let read = context.readFile(path)
            if case .failed = read {
                // Reported where the file is.
            } else if case .missing = read {
                reader.error("the known-hosts file `\(knownHosts.value)` does not exist in \(context.folder)/", at: knownHosts.node,
                             hint: "create it with `ssh-keyscan -t ed25519 HOST >> \(path)`")
            } else {
                settings.knownHosts = path
            }
        }
        var ports: [String: PerSlot<Int>] = [:]
        if let programsNode = fields["programs"], let entries = reader.namedMapping(programsNode, "`programs` of \(label)") {
            for entry in entries {
                guard let program = programs.first(where: { $0.name == entry.name }) else {
                    reader.error("\(label) overrides program `\(entry.name)`, which the environment does not define", at: entry.keyNode,
                                 hint: ConfigReader.suggestion(for: entry.name, among: programs.map(\.name)))
                    continue
                }
                guard let override = reader.mapping(entry.value, "program `\(entry.name)` of \(label)", optional: ["port"]) else { continue }
                if let portNode = override["port"] {
                    guard program.isWeb else {
                        reader.error("\(label) sets a port for program `\(entry.name)`, which has no port", at: portNode)
                        continue
                    }
                    if let value = slotPorts(portNode, "`port` of program `\(entry.name)` on \(label)") {
                        ports[entry.name] = value
                    }
                }
            }
        }
        guard log.diagnostics.count == errorsBefore, let name, let address else { return nil }
        let host = FleetHost(name: name, address: address, settings: settings, ports: ports)
        checkPortCollisions(host, programs: programs, node: fields["programs"] ?? node)
        guard log.diagnostics.count == errorsBefore else { return nil }
        if isLocal, let addressNode = fields["address"] {
            // A warning (the host stays valid): the operator decides, with --allow-local-hosts.
            reader.log.warning("\(label) has `address: local`: it runs on the controller's own machine, as the controller's "
                               + "user, so Pinwheel refuses to run it unless the operator passes --allow-local-hosts",
                               at: reader.location(addressNode),
                               hint: "for a real host give its address; `local` is for a single machine its operator runs")
        }
        return host
    }

    /// No two processes of any slot on one host may listen on the same port: both slots run side by side.
    private func checkPortCollisions(_ host: FleetHost, programs: [Program], node: Node) {
        var owners: [Int: String] = [:]
        for program in programs where program.isWeb {
            for slot in Slot.allCases {
                for (index, port) in host.processPorts(of: program, in: slot).enumerated() {
                    let owner = "program `\(program.name)` slot \(slot) process \(index)"
                    if port > 65535 {
                        reader.error("on host `\(host.name)`, \(owner) would listen on port \(port), above 65535", at: node)
                    } else if let other = owners[port] {
                        reader.error("on host `\(host.name)`, \(owner) and \(other) would both listen on port \(port)", at: node,
                                     hint: "slots run side by side: give each slot its own port range, at least `processes` apart")
                    } else {
                        owners[port] = owner
                    }
                }
            }
        }
    }

    private func checkUnique(_ hosts: [(host: FleetHost, node: Node)]) -> Bool {
        var names: [String: Node] = [:]
        var endpoints: [String: String] = [:]
        var ok = true
        for (host, node) in hosts {
            if let first = names[host.name] {
                reader.error("host name `\(host.name)` is used twice", at: node,
                             hint: "it is first used at line \(first.mark?.line ?? 0); host names must be unique")
                ok = false
            } else {
                names[host.name] = node
            }
            let endpoint = host.isLocal ? "local:\(host.settings.root)" : "\(host.address):\(host.settings.port)"
            if let other = endpoints[endpoint], other != host.name {
                reader.error("hosts `\(other)` and `\(host.name)` are the same machine (\(endpoint))", at: node,
                             hint: host.isLocal ? "give each local host its own `root`" : "each host needs its own address or port")
                ok = false
            } else {
                endpoints[endpoint] = host.name
            }
        }
        return ok
    }
}
