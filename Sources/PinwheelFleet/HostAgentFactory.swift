import PinwheelCore

/// Where the controller gets the agents that reach an environment's hosts: the one seam between the controller and
/// real hosts. In production they talk over SSH (``TransportAgentFactory``); the controller's behavioural tests hand it
/// in-memory hosts that answer as the host agent does, so every controller behaviour is testable without a fleet.
public protocol HostAgentFactory: Sendable {
    /// One agent per host of `environment` that can be reached, in the environment's order, each carrying `commit`
    /// (recorded in the manifests of the slots it prepares). Throws, before any host is reached, when the config
    /// names something this machine refuses (an untrusted private key, a missing known-hosts file).
    func agents(for environment: Environment, source: any ConfigSource, commit: String?) throws -> [HostAgent]
}

/// The real hosts: SSH transports (or this machine for `address: local`) from ``TransportFactory``.
public struct TransportAgentFactory: HostAgentFactory {
    /// The SSH control sockets' folder (and the known-hosts files written from the config).
    public var controlDirectory: String
    /// The folders whose private keys and known-hosts files the config may name.
    public var trust: LocalFileTrust
    /// The cap on round trips open at once, shared by every environment's agents (nil: none).
    public var limit: ConnectionLimit?
    /// Where shipped artifacts are kept (`source: {ship: …}`); nil for ``ArtifactCache/defaultFolder()``.
    public var artifactCache: ArtifactCache?
    /// With `watch`: each SSH host's resident agent, kept between round trips (see ``ResidentTransport``); nil for a
    /// new agent process per round trip.
    public var resident: ResidentSessions?

    public init(controlDirectory: String, trust: LocalFileTrust, limit: ConnectionLimit? = nil, artifactCache: ArtifactCache? = nil,
                resident: ResidentSessions? = nil) {
        self.controlDirectory = controlDirectory
        self.trust = trust
        self.limit = limit
        self.artifactCache = artifactCache
        self.resident = resident
    }

    public func agents(for environment: Environment, source: any ConfigSource, commit: String?) throws -> [HostAgent] {
        var transports = try TransportFactory.transports(for: environment, source: source, controlDirectory: controlDirectory,
                                                         trust: trust)
        let limit = self.limit
        let resident = self.resident
        transports = transports.mapValues { (transport: any Transport) -> any Transport in
            var base = transport
            if let limit { base = LimitedTransport(transport, limit: limit) }
            guard let resident, let ssh = transport as? SSHTransport else { return base }
            return ResidentTransport(ssh, base: base, sessions: resident, limit: limit)
        }
        return HostAgent.agents(for: environment, transports: transports, commit: commit, artifactCache: artifactCache)
    }
}

extension HostAgent {
    /// One agent per host of `environment` that has a transport, in the environment's order. With
    /// `source: {ship: …}` they share one ``ArtifactShipper`` keeping its files in `artifactCache` (by default
    /// ``ArtifactCache/defaultFolder()``).
    public static func agents(for environment: Environment, transports: [String: any Transport], commit: String?,
                              artifactCache: ArtifactCache? = nil) -> [HostAgent] {
        let shipper = ArtifactShipper.of(environment, cache: artifactCache ?? ArtifactCache(folder: ArtifactCache.defaultFolder()))
        return environment.targets.compactMap { target in
            transports[target.name].map {
                var agent = HostAgent(target: target, python: environment.python, transport: $0, commit: commit)
                agent.shipper = shipper
                return agent
            }
        }
    }
}
