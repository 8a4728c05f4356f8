/// Runs the agent on a host: over SSH, or on this machine for hosts with `address: local`.
public protocol Transport: Sendable {
    /// Runs `script` with the host's Python and returns what it printed; throws `FleetError` when the host
    /// cannot be reached or the deadline passes.
    func run(python: String, script: String, timeout: Duration) async throws -> CommandOutput
}

/// What a command printed and how it ended.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public init(status: Int32, standardOutput: String, standardError: String) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}
