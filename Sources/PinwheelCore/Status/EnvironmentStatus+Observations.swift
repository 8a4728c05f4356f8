extension EnvironmentStatus {
    /// The status of `environment` at `commit` from what its hosts reported; `errors` are the hosts that could not
    /// be observed or failed, with the reason.
    public init(environment: Environment, commit: String, result: Result, message: String, time: String,
                observations: [String: HostObservation], errors: [String: String], revert: String? = nil) {
        var hosts: [String: HostStatus] = [:]
        for host in environment.hosts {
            hosts[host.name] = HostStatus(observation: observations[host.name], error: errors[host.name])
        }
        self.init(environment: environment.name, desired: commit, result: result, message: message, time: time,
                  active: environment.active, pins: environment.slots[environment.active].pins.map(\.description),
                  hosts: hosts, revert: revert, python: environment.python(of: environment.active))
    }
}

extension EnvironmentStatus.HostStatus {
    /// What a host reported (nil when it could not be observed); healthy only when its serving slot is and there
    /// is no `error`.
    public init(observation: HostObservation?, error: String?) {
        var slots: [String: [String]] = [:]
        for slot in Slot.allCases {
            if let pins = observation?.slots[slot].manifest?.pins { slots[slot.rawValue] = pins }
        }
        let serving = observation?.routed
        let healthy = serving.map { observation?.slots[$0].healthy ?? false } ?? false
        self.init(serving: serving, slots: slots, healthy: healthy && error == nil, error: error)
    }
}
