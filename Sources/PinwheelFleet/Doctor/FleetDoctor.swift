import PinwheelCore

/// `pinwheel doctor`: every host of an environment checked at once, one round trip each.
public enum FleetDoctor {
    /// Each host's checkup, in the environment's host order. A host without a transport is reported, not skipped.
    public static func examine(_ environment: Environment, transports: [String: any Transport],
                               slotBytes: Int = HostDoctor.defaultSlotBytes, concurrency: Int = 32,
                               timeout: Duration = .seconds(120)) async -> [HostCheckup] {
        await concurrentMap(environment.hosts, limit: concurrency) { host in
            guard let transport = transports[host.name] else {
                return HostCheckup(host: host.name, checks: [HostCheck(name: "ssh", ok: false, detail: "no transport for \(host.name)")])
            }
            return await HostDoctor(host: host, environment: environment, transport: transport, slotBytes: slotBytes)
                .examine(timeout: timeout)
        }
    }
}
