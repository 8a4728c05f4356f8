extension EnvironmentStatus {
    /// The status of `environment` at `commit` from what its hosts reported; `errors` are the hosts that could not
    /// be observed or failed, and why. The environment's `reason` is the first such host's (in host order), unless
    /// the status has none to give (converged).
    public init(environment: Environment, commit: String, result: Result, message: String, time: String,
                observations: [String: HostObservation], errors: [String: HostFailure], revert: String? = nil) {
        var hosts: [String: HostStatus] = [:]
        for host in environment.hosts {
            hosts[host.name] = HostStatus(observation: observations[host.name], failure: errors[host.name])
        }
        self.init(environment: environment.name, desired: commit, result: result, message: message, time: time,
                  active: environment.active, pins: environment.slots[environment.active].pins.map(\.description),
                  hosts: hosts, revert: revert, python: environment.python(of: environment.active))
        if result != .converged, let host = environment.hosts.map(\.name).first(where: { errors[$0] != nil }),
           let failure = errors[host] {
            cause = StatusReason(code: failure.code.rawValue, step: failure.step, message: "\(host): \(failure.message)")
        }
    }
}

extension EnvironmentStatus.HostStatus {
    /// At most this many artifact hashes are recorded per slot.
    static let artifactLimit = 2_000

    /// What a host reported (nil when it could not be observed); healthy only when its serving slot is and it did
    /// not fail. The failure is recorded as Pinwheel's diagnosis (`error`, `reason`), never the host's output.
    public init(observation: HostObservation?, failure: HostFailure?) {
        var slots: [String: [String]] = [:]
        var artifacts: [String: [String]] = [:]
        for slot in Slot.allCases {
            if let pins = observation?.slots[slot].manifest?.pins { slots[slot.rawValue] = pins }
            // Written by the host: only SHA-256 values, and not more of them than a lock could name.
            if let hashes = observation?.slots[slot].manifest?.artifacts?.prefix(Self.artifactLimit).filter(ShippedArtifact.isSHA256),
               !hashes.isEmpty {
                artifacts[slot.rawValue] = hashes
            }
        }
        let serving = observation?.routed
        let healthy = serving.map { observation?.slots[$0].healthy ?? false } ?? false
        self.init(serving: serving, slots: slots, healthy: healthy && failure == nil, error: failure?.description,
                  reason: failure?.reason, artifacts: artifacts.isEmpty ? nil : artifacts)
    }
}
