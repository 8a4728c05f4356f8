import PinwheelProcess

/// The transports' way to run a local program (ssh, or a local host's Python): ``ProcessRunner`` with its failures
/// as ``FleetError`` (a deadline that passed is ``FleetError/Code/timeout``).
public enum CommandRunner {
    public static func run(_ path: String, _ arguments: [String], input: ProcessInput, timeout: Duration,
                           environment: [String: String] = [:]) async throws -> CommandOutput {
        do {
            return try await ProcessRunner.run(path, arguments, input: input, timeout: timeout, environment: environment)
        } catch let error as ProcessError {
            throw FleetError(error.code == .timeout ? .timeout : .agent, error.message)
        }
    }

    /// Hands over each line of the program's output and errors as it comes; cancelling the task ends the program.
    public static func stream(_ path: String, _ arguments: [String], input: ProcessInput,
                              line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        do {
            return try await ProcessRunner.stream(path, arguments, input: input) { text, isError in
                await line(OutputLine(text, isError: isError))
            }
        } catch let error as ProcessError {
            throw FleetError(.agent, error.message)
        }
    }

    /// Runs the program on this process's own standard input, output and errors (a terminal).
    public static func interactive(_ path: String, _ arguments: [String]) async throws -> Int32 {
        try await ProcessRunner.interactive(path, arguments)
    }
}
