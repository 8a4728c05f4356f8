/// What a change to the config does to an environment's desired state, in the words a reviewer reads in a
/// pull request: "slot B: hello-service 1.0.0 → 1.1.0", "active: A → B".
public enum EnvironmentDiff {
    /// The changes from `old` to `new`, most important first; empty when the desired state is the same.
    /// A nil side means the environment does not exist there.
    public static func changes(from old: Environment?, to new: Environment?) -> [String] {
        switch (old, new) {
        case (nil, nil):
            return []
        case let (nil, new?):
            return ["environment \(new.name) created: active \(new.active), \(new.hosts.count) host\(new.hosts.count == 1 ? "" : "s")"]
                + Slot.allCases.map { "slot \($0): " + new.slots[$0].pins.map(\.description).joined(separator: ", ") }
        case let (old?, nil):
            return ["environment \(old.name) removed"]
        case let (old?, new?):
            return changes(old, new)
        }
    }

    private static func changes(_ old: Environment, _ new: Environment) -> [String] {
        var lines: [String] = []
        for slot in Slot.allCases {
            let pinChanges = pins(from: old.slots[slot].pins, to: new.slots[slot].pins, facts: new.markerFacts(of: slot))
            if !pinChanges.isEmpty {
                lines.append("slot \(slot): " + pinChanges.joined(separator: ", "))
            }
            if old.slots[slot].file != new.slots[slot].file {
                lines.append("slot \(slot) file: \(old.slots[slot].file) → \(new.slots[slot].file)")
            }
            // The interpreter a slot runs on, whether set on the slot or inherited from `python`.
            if old.python(of: slot) != new.python(of: slot) {
                lines.append("slot \(slot) python: \(old.python(of: slot)) → \(new.python(of: slot))")
            }
        }
        if old.active != new.active {
            lines.append("active: \(old.active) → \(new.active)")
        }
        compare("app", old.app, new.app, into: &lines)
        compare("python", old.python, new.python, into: &lines)
        compare("source", old.source.description, new.source.description, into: &lines)
        lines += programs(from: old.programs, to: new.programs)
        lines += policy(from: old.policy, to: new.policy)
        lines += hosts(from: old, to: new)
        return lines
    }

    /// What changed from one list of pins to another, one line per package: `hello-service 1.0.0 → 1.1.0`,
    /// `+new 2.0`, `-gone 1.0`. A package pinned under several markers is compared marker by marker
    /// (`django 6.1.3 → 6.1.4 ; python_full_version >= '3.12'`). With `facts`, a change to a pin the slot's hosts do
    /// not install (its marker is false there) says so, since it changes the file but not what runs.
    public static func pins(from old: [Pin], to new: [Pin], facts: MarkerFacts? = nil) -> [String] {
        var changes: [String] = []
        let oldByName = Dictionary(grouping: old, by: \.normalizedName)
        let newByName = Dictionary(grouping: new, by: \.normalizedName)
        func note(_ pin: Pin) -> String {
            guard let facts, pin.applies(facts) == false else { return "" }
            return " (not installed here" + (facts.pythonDescription.map { ": python \($0)" } ?? "") + ")"
        }
        var done = Set<String>()
        for pin in new where done.insert(pin.normalizedName).inserted {
            let before = oldByName[pin.normalizedName] ?? []
            let after = newByName[pin.normalizedName] ?? []
            if before.count == 1, after.count == 1 {
                if let change = change(from: before[0], to: after[0]) {
                    changes.append(change + note(after[0]))
                }
                continue
            }
            // Several pins of one package: pair them by marker, unchanged pins first.
            var remaining = before
            var unpaired: [Pin] = []
            for candidate in after {
                if let index = remaining.firstIndex(where: { $0.marker == candidate.marker && $0.version == candidate.version }) {
                    if let change = change(from: remaining.remove(at: index), to: candidate) {
                        changes.append(change + suffix(candidate, among: after) + note(candidate))
                    }
                } else {
                    unpaired.append(candidate)
                }
            }
            for candidate in unpaired {
                if let index = remaining.firstIndex(where: { $0.marker == candidate.marker }) {
                    if let change = change(from: remaining.remove(at: index), to: candidate) {
                        changes.append(change + suffix(candidate, among: after) + note(candidate))
                    }
                } else {
                    changes.append("+\(candidate.name) \(candidate.version)" + suffix(candidate, among: after) + note(candidate))
                }
            }
            for gone in remaining {
                changes.append("-\(gone.name) \(gone.version)" + suffix(gone, among: before))
            }
        }
        for pin in old where newByName[pin.normalizedName] == nil {
            changes.append("-\(pin.name) \(pin.version)" + suffix(pin, among: oldByName[pin.normalizedName] ?? []))
        }
        return changes
    }

    /// The pin's marker, when its package has several pins: which of them changed.
    private static func suffix(_ pin: Pin, among pins: [Pin]) -> String {
        guard pins.count > 1, let marker = pin.marker else { return "" }
        return " ; \(marker)"
    }

    private static func change(from before: Pin, to pin: Pin) -> String? {
        if before.version != pin.version {
            return "\(pin.name) \(before.version) → \(pin.version)"
        } else if before.hashes != pin.hashes {
            return "\(pin.name) \(pin.version) hashes changed"
        } else if before.marker != pin.marker {
            return "\(pin.name) marker `\(before.marker ?? "")` → `\(pin.marker ?? "")`"
        }
        return nil
    }

    private static func programs(from old: [Program], to new: [Program]) -> [String] {
        var lines: [String] = []
        for program in new {
            guard let before = old.first(where: { $0.name == program.name }) else {
                lines.append("program \(program.name) added: \(program.command)")
                continue
            }
            let prefix = "program \(program.name)"
            compare("\(prefix) command", before.command, program.command, into: &lines)
            compare("\(prefix) processes", "\(before.processes)", "\(program.processes)", into: &lines)
            compare("\(prefix) port", portText(before.ports), portText(program.ports), into: &lines)
            compare("\(prefix) health", healthText(before.health), healthText(program.health), into: &lines)
        }
        for program in old where !new.contains(where: { $0.name == program.name }) {
            lines.append("program \(program.name) removed")
        }
        return lines
    }

    private static func policy(from old: Policy, to new: Policy) -> [String] {
        var lines: [String] = []
        compare("policy", old.name, new.name, into: &lines)
        let a = old.rollout
        let b = new.rollout
        compare("rollout.prepare", "\(a.prepare)", "\(b.prepare)", into: &lines)
        compare("rollout.canary", "\(a.canary)", "\(b.canary)", into: &lines)
        compare("rollout.batch", a.batch.description, b.batch.description, into: &lines)
        compare("rollout.pause", a.pause.description, b.pause.description, into: &lines)
        compare("rollout.maxFailures", "\(a.maxFailures)", "\(b.maxFailures)", into: &lines)
        compare("rollout.onFailure", a.onFailure.rawValue, b.onFailure.rawValue, into: &lines)
        compare("health.retries", "\(old.health.retries)", "\(new.health.retries)", into: &lines)
        compare("health.interval", old.health.interval.description, new.health.interval.description, into: &lines)
        compare("drift", old.drift.rawValue, new.drift.rawValue, into: &lines)
        return lines
    }

    private static func hosts(from old: Environment, to new: Environment) -> [String] {
        var lines: [String] = []
        let added = new.hosts.filter { old.host(named: $0.name) == nil }.map(\.name)
        let removed = old.hosts.filter { new.host(named: $0.name) == nil }.map(\.name)
        if !added.isEmpty { lines.append("hosts added: " + added.joined(separator: ", ")) }
        if !removed.isEmpty { lines.append("hosts removed: " + removed.joined(separator: ", ")) }
        for host in new.hosts {
            guard let before = old.host(named: host.name), before != host else { continue }
            var fields: [String] = []
            compare("address", before.address, host.address, into: &fields)
            compare("user", before.settings.user ?? "-", host.settings.user ?? "-", into: &fields)
            compare("port", "\(before.settings.port)", "\(host.settings.port)", into: &fields)
            compare("identity", before.settings.identity ?? "agent", host.settings.identity ?? "agent", into: &fields)
            compare("knownHosts", before.settings.knownHosts ?? "-", host.settings.knownHosts ?? "-", into: &fields)
            compare("root", before.settings.root, host.settings.root, into: &fields)
            compare("supervisor.include", before.settings.supervisor.include, host.settings.supervisor.include, into: &fields)
            compare("supervisor.ctl", before.settings.supervisor.ctl, host.settings.supervisor.ctl, into: &fields)
            compare("nginx.upstream", before.settings.nginx.upstream, host.settings.nginx.upstream, into: &fields)
            compare("nginx.test", before.settings.nginx.test, host.settings.nginx.test, into: &fields)
            compare("nginx.reload", before.settings.nginx.reload, host.settings.nginx.reload, into: &fields)
            compare("nginx.check", before.settings.nginx.check ?? "-", host.settings.nginx.check ?? "-", into: &fields)
            if before.ports != host.ports { fields.append("port overrides changed") }
            if fields.isEmpty { fields.append("settings changed") }
            lines.append("host \(host.name): " + fields.joined(separator: ", "))
        }
        return lines
    }

    private static func compare(_ label: String, _ old: String, _ new: String, into lines: inout [String]) {
        if old != new {
            lines.append("\(label): \(old) → \(new)")
        }
    }

    static func portText(_ ports: PerSlot<Int>?) -> String {
        guard let ports else { return "none" }
        return "A \(ports.a), B \(ports.b)"
    }

    static func healthText(_ health: HealthCheck?) -> String {
        guard let health else { return "none" }
        return "\(health.path) → \(health.status) within \(health.timeout)"
    }
}
