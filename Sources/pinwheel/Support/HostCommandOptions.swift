import ArgumentParser
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

/// What `logs` and `exec` take to reach an environment's hosts: the target, as `plan` and `apply` take it, and `--host`.
struct HostCommandOptions: ParsableArguments {
    @OptionGroup var target: HostTargetOptions

    @Option(name: .customLong("host"), help: ArgumentHelp("Only this host (repeatable).", valueName: "name"))
    var hosts: [String] = []

    /// The environment as the config says it, and an agent for each host selected (those `--host` names, every host
    /// without it), at most `limit` of them.
    func agents(limit: Int? = nil) throws -> (environment: Environment, agents: [HostAgent]) {
        let (desired, source) = try target.desired()
        var selected = try HostSelection.hosts(hosts, of: desired)
        if let limit { selected = Array(selected.prefix(limit)) }
        let transports = try target.transports(for: desired, source: source)
        let commit = HostTargetOptions.commit(of: source)
        let agents = selected.compactMap { host in
            transports[host.name].map { HostAgent(target: desired.target(for: host), python: desired.python, transport: $0, commit: commit) }
        }
        return (desired, agents)
    }
}
