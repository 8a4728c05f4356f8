import PinwheelProcess

/// Runs the agent on this machine, without SSH: for single-machine use and the demo (`address: local`).
public struct LocalTransport: Transport {
    public init() {}

    public func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        try await CommandRunner.stream(python, ["-I", "-S", "-"], input: script, line: line)
    }

    public func interactive(python: String, script: ProcessInput) async throws -> Int32 {
        try await CommandRunner.interactive(python, ["-I", "-S", "-c", Self.interactiveProgram(script)])
    }

    public func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
        do {
            return try await CommandRunner.run(python, ["-I", "-S", "-"], input: script, timeout: timeout)
        } catch let error as FleetError {
            throw error
        } catch {
            throw FleetError(.agent, "cannot run \(python): \(error)")
        }
    }
}
