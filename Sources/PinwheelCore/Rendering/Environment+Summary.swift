extension Environment {
    /// The desired state as `pinwheel show` prints it: what a person needs to check that the tool understood the config.
    public var summary: String {
        var lines: [String] = []
        lines.append("environment \(name)")
        lines.append("  app:      \(app)")
        lines.append("  python:   \(python)")
        lines.append("  source:   \(source)")
        lines.append("  active:   \(active) (idle: \(idle))")
        lines.append("  policy:   \(policy.name) — prepare \(policy.rollout.prepare), canary \(policy.rollout.canary), batch \(policy.rollout.batch), pause \(policy.rollout.pause), maxFailures \(policy.rollout.maxFailures), onFailure \(policy.rollout.onFailure.rawValue); health \(policy.health.retries)×\(policy.health.interval); drift \(policy.drift.rawValue)")
        for slot in Slot.allCases {
            let marker = slot == active ? " [active]" : ""
            let interpreter = slots[slot].python.map { ", python \($0)" } ?? ""
            lines.append("  slot \(slot) (\(slots[slot].file)\(interpreter))\(marker):")
            lines += pinLines(of: slot)
        }
        lines.append("  programs:")
        for program in programs {
            var line = "    \(program.name): \(program.command)"
            line += program.processes == 1 ? "" : " ×\(program.processes)"
            if let ports = program.ports {
                line += " — ports A \(ports.a), B \(ports.b)"
            }
            if let health = program.health {
                line += " — health \(health.path) → \(health.status) within \(health.timeout)"
            }
            lines.append(line)
        }
        lines.append("  hosts:")
        for host in hosts {
            let settings = host.settings
            let login = host.isLocal ? "local" : "\(settings.user ?? "?")@\(host.address):\(settings.port)"
            lines.append("    \(host.name): \(login)")
            lines.append("      root \(settings.root); identity \(settings.identity ?? "ssh agent"); knownHosts \(settings.knownHosts ?? "-")")
            lines.append("      supervisor include \(settings.supervisor.include); ctl `\(settings.supervisor.ctl)`")
            lines.append("      nginx upstream \(settings.nginx.upstream); test `\(settings.nginx.test)`; reload `\(settings.nginx.reload)`; check \(settings.nginx.check ?? "-")")
            for program in programs where program.isWeb {
                let a = host.processPorts(of: program, in: .a)
                let b = host.processPorts(of: program, in: .b)
                lines.append("      \(program.name) ports: A \(a.map(String.init).joined(separator: ",")); B \(b.map(String.init).joined(separator: ","))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A slot's pins as its hosts get them. Pins whose markers are false there (another Python version, Windows) are
    /// listed apart, so a reader sees which version of a package pinned twice the slot runs; when the slot's
    /// interpreter names no version, a package's alternatives are all listed with their markers, and pip picks on
    /// the host.
    private func pinLines(of slot: Slot) -> [String] {
        let facts = markerFacts(of: slot)
        var lines: [String] = []
        for pin in slots[slot].pins(for: facts) {
            var line = "    \(pin.name)==\(pin.version)"
            if let marker = pin.marker { line += " ; \(marker)" }
            if !pin.hashes.isEmpty { line += "  (\(pin.hashes.count) hash\(pin.hashes.count == 1 ? "" : "es"))" }
            lines.append(line)
        }
        let skipped = slots[slot].skipped(for: facts)
        if !skipped.isEmpty {
            let python = facts.pythonDescription.map { "python \($0), " } ?? ""
            lines.append("    not installed on these hosts (\(python)Linux): "
                         + skipped.map { "\($0.name)==\($0.version) ; \($0.marker ?? "")" }.joined(separator: ", "))
        }
        let undecided = Set(slots[slot].pins(for: facts).filter { $0.applies(facts) == nil }.map(\.normalizedName))
        let split = undecided.filter { slots[slot].alternatives(named: $0).count(where: { $0.applies(facts) != false }) > 1 }
        if !split.isEmpty, facts.python == nil {
            lines.append("    \(python(of: slot)) names no version, so the hosts' pip picks among the pins of "
                         + split.sorted().joined(separator: ", ") + " by their markers (name the version, e.g. python3.12, to see which)")
        }
        return lines
    }
}
