/// One machine of an environment, with its effective settings (defaults merged with its own overrides).
public struct FleetHost: Sendable, Hashable, Codable {
    public var name: String
    /// An IP address or DNS name, or `local` for this machine without SSH.
    public var address: String
    public var settings: HostSettings
    /// The first port of each slot for each web program on this host (the program's ports unless overridden).
    public var ports: [String: PerSlot<Int>]

    public init(name: String, address: String, settings: HostSettings, ports: [String: PerSlot<Int>] = [:]) {
        self.name = name
        self.address = address
        self.settings = settings
        self.ports = ports
    }

    /// Whether this host is this machine, reached without SSH.
    public var isLocal: Bool { address == "local" }

    /// The ports each process of `program` listens on in `slot` on this host.
    public func processPorts(of program: Program, in slot: Slot) -> [Int] {
        guard let first = ports[program.name]?[slot] ?? program.ports?[slot] else { return [] }
        return (0..<program.processes).map { first + $0 }
    }
}
