/// The desired state of one host, resolved once after parsing: both slots' specs with their fingerprints, the
/// host's effective settings, and the policy's health rule.
///
/// One value flows through the planner, the transport and the agent, so nothing is derived twice and every part
/// sees the same fingerprints.
public struct HostTarget: Sendable, Hashable {
    public let environment: String
    public let app: String
    public let host: FleetHost
    /// The slot nginx must route to.
    public let active: Slot
    public let slots: PerSlot<ResolvedSlot>
    public let health: Policy.HealthPolicy
    /// The release's hooks.
    public let hooks: ReleaseHooks

    public var name: String { host.name }
    public var settings: HostSettings { host.settings }

    public init(environment: Environment, host: FleetHost) {
        self.environment = environment.name
        app = environment.app
        self.host = host
        active = environment.active
        slots = PerSlot(a: ResolvedSlot(environment.slotSpec(.a, on: host)), b: ResolvedSlot(environment.slotSpec(.b, on: host)))
        health = environment.policy.health
        hooks = environment.hooks
    }
}

extension Environment {
    /// Every host's resolved desired state, in the environment's order.
    public var targets: [HostTarget] {
        hosts.map { HostTarget(environment: self, host: $0) }
    }

    public func target(for host: FleetHost) -> HostTarget {
        HostTarget(environment: self, host: host)
    }
}
