import ArgumentParser
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

/// What `logs` and `exec` take to reach an environment's hosts: the config, the environment and `--host`.
struct HostCommandOptions: ParsableArguments {
    @OptionGroup var repository: RepositoryOptions

    @OptionGroup var localFiles: LocalFileOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    @Option(name: .customLong("host"), help: ArgumentHelp("Only this host (repeatable).", valueName: "name"))
    var hosts: [String] = []

    /// The environment as the config says it, and an agent for each host selected (those `--host` names, every host
    /// without it), at most `limit` of them.
    func agents(limit: Int? = nil) throws -> (environment: Environment, agents: [HostAgent]) {
        let (desired, source) = try repository.environment(environment)
        var selected = try HostSelection.hosts(hosts, of: desired)
        if let limit { selected = Array(selected.prefix(limit)) }
        let transports = try wrapUsage { try TransportFactory.transports(for: desired, source: source, trust: localFiles.trust) }
        let commit = (source as? CommitConfigSource)?.commit.hex
        let agents = selected.compactMap { host in
            transports[host.name].map { HostAgent(target: desired.target(for: host), python: desired.python, transport: $0, commit: commit) }
        }
        return (desired, agents)
    }
}
