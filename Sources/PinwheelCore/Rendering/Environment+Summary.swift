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
            for pin in slots[slot].pins {
                var line = "    \(pin.name)==\(pin.version)"
                if let marker = pin.marker { line += " ; \(marker)" }
                if !pin.hashes.isEmpty { line += "  (\(pin.hashes.count) hash\(pin.hashes.count == 1 ? "" : "es"))" }
                lines.append(line)
            }
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
}
