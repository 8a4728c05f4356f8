/// A program run under supervisord in each slot (`hello-web-A`, `hello-worker-B`, ...).
public struct Program: Sendable, Hashable, Codable {
    public var name: String
    /// The command line, run from the slot's virtualenv `bin/`; `{port}` is replaced by each process's port.
    public var command: String
    /// How many processes; process `i` listens on `port + i`.
    public var processes: Int
    /// The first port of each slot; nil for programs that serve no HTTP (workers), which are not behind nginx.
    public var ports: PerSlot<Int>?
    /// How a web process proves it is ready; nil when the program has no port.
    public var health: HealthCheck?
    /// Environment, user, working directory, stop signal and timeouts.
    public var settings: ProgramSettings

    public init(name: String, command: String, processes: Int = 1, ports: PerSlot<Int>? = nil, health: HealthCheck? = nil,
                settings: ProgramSettings = ProgramSettings()) {
        self.name = name
        self.command = command
        self.processes = processes
        self.ports = ports
        self.health = health
        self.settings = settings
    }

    /// Whether nginx sends traffic to this program.
    public var isWeb: Bool { ports != nil }
}

/// The HTTP check a web process must pass before traffic is switched to its slot.
public struct HealthCheck: Sendable, Hashable, Codable {
    public var path: String
    public var status: Int
    public var timeout: ConfigDuration

    public init(path: String = "/", status: Int = 200, timeout: ConfigDuration = .seconds(2)) {
        self.path = path
        self.status = status
        self.timeout = timeout
    }
}
