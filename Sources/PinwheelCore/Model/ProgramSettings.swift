/// How supervisord runs a program's processes, beyond its command: the environment they see, the user they run as,
/// where they start and how they start and stop.
///
/// Every field is optional, and a program that sets none runs as it always did: supervisord's defaults, the SSH
/// user, the slot's folder. That is also why `SlotFingerprint` encodes a field only when it is set, so slots built
/// before these settings existed keep their fingerprint.
public struct ProgramSettings: Sendable, Hashable, Codable {
    /// Non-secret variables, in git. `{port}` and `{slot}` in a value become the process's port and the slot.
    public var environment: [String: String]
    /// A file on the host whose `KEY=value` lines are added to the environment at start: secrets stay on the host,
    /// out of git, the controller and its logs.
    public var envFile: String?
    /// The user the processes run as (supervisord's `user=`); nil runs them as the SSH user.
    public var user: String?
    /// The working directory; nil starts them in the slot's build folder.
    public var directory: String?
    /// The signal that asks a process to stop (drain); nil is TERM.
    public var stopSignal: StopSignal?
    /// How long a process may take to stop after the signal before it is killed; nil is supervisord's 10 s.
    public var stopTimeout: ConfigDuration?
    /// How long a process must stay up to count as started; nil is 0 for web processes (their health check says
    /// it) and 1 s for the others.
    public var startSeconds: Int?

    public init(environment: [String: String] = [:], envFile: String? = nil, user: String? = nil, directory: String? = nil,
                stopSignal: StopSignal? = nil, stopTimeout: ConfigDuration? = nil, startSeconds: Int? = nil) {
        self.environment = environment
        self.envFile = envFile
        self.user = user
        self.directory = directory
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
        self.startSeconds = startSeconds
    }

    /// Whether nothing is set: the program runs as it did before these settings existed.
    public var isDefault: Bool { self == ProgramSettings() }

    /// The keys of `programs.<name>` that are settings.
    public static let keys = ["environment", "envFile", "user", "directory", "stopSignal", "stopTimeout", "startSeconds"]
}

/// The signals a program may be stopped with (supervisord's `stopsignal`).
public enum StopSignal: String, Sendable, Hashable, Codable, CaseIterable {
    case term = "TERM"
    case int = "INT"
    case quit = "QUIT"
    case hup = "HUP"
    case usr1 = "USR1"
    case usr2 = "USR2"
}
