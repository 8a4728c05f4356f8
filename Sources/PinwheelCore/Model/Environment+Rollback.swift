extension Environment {
    /// Whether this desired state is a rollback from `lastApplied`: its active slot is exactly the slot that was idle
    /// (warm) in the last applied state, on every host. The active slot changes and, for every host, the desired
    /// active slot's fingerprint is the one that slot had in the last applied state.
    public func isRollback(from lastApplied: Environment) -> Bool {
        guard active != lastApplied.active, !hosts.isEmpty else { return false }
        return hosts.allSatisfy { host in
            guard let previous = lastApplied.host(named: host.name) else { return false }
            return target(for: host).slots[active].fingerprint == lastApplied.target(for: previous).slots[active].fingerprint
        }
    }
}
