/// Everything that defines one slot on one host: what gets installed, how its programs run, and where.
///
/// Its fingerprint (`SlotFingerprint`) is written into the slot's manifest on the host; a slot whose manifest
/// carries the desired fingerprint needs no install. Anything that would change what runs changes the fingerprint.
public struct SlotSpec: Sendable, Hashable, Codable {
    public struct ProgramSpec: Sendable, Hashable, Codable {
        public var name: String
        /// The supervisord program name, e.g. `hello-web-A`.
        public var supervisorName: String
        public var command: String
        public var processes: Int
        /// The port of each process; empty for programs without a port.
        public var ports: [Int]
        public var health: HealthCheck?
        /// Environment, user, working directory, stop signal and timeouts; all unset by default.
        public var settings: ProgramSettings = ProgramSettings()
    }

    public var environment: String
    public var app: String
    public var slot: Slot
    public var python: String
    public var source: PackageSource
    /// The requirements file as installed: sorted pins, one per line.
    public var requirements: String
    public var hashed: Bool
    public var programs: [ProgramSpec]
    /// Run in each new build after the install, before its processes start (`hooks.prepare`).
    public var prepareHook: ReleaseHooks.Hook? = nil

    public var webPrograms: [ProgramSpec] { programs.filter { !$0.ports.isEmpty } }
}

extension Program {
    /// The command as `host` runs it: `{address}` becomes the host's own address (127.0.0.1 for `address: local`), so
    /// a program can listen where a scraper on the network reaches it without listening on every interface.
    /// (`{port}` is each process's, filled in on the host.)
    public func command(on host: FleetHost) -> String {
        guard command.contains("{address}") else { return command }
        return command.replacingOccurrences(of: "{address}", with: host.isLocal ? "127.0.0.1" : host.address)
    }
}

extension Environment {
    /// The spec of `slot` on `host`, with the host's own ports and address.
    public func slotSpec(_ slot: Slot, on host: FleetHost) -> SlotSpec {
        let pins = slots[slot].pins
        return SlotSpec(
            environment: name,
            app: app,
            slot: slot,
            python: python(of: slot),
            source: source,
            requirements: slots[slot].requirementsText,
            hashed: pins.contains { !$0.hashes.isEmpty },
            programs: programs.map { program in
                SlotSpec.ProgramSpec(
                    name: program.name,
                    supervisorName: supervisorName(of: program, in: slot),
                    command: program.command(on: host),
                    processes: program.processes,
                    ports: host.processPorts(of: program, in: slot),
                    health: program.health,
                    settings: program.settings
                )
            },
            prepareHook: hooks.prepare
        )
    }
}
