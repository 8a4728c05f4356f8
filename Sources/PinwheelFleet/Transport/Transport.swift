import Foundation
import PinwheelProcess

/// Runs the agent on a host: over SSH, or on this machine for hosts with `address: local`.
public protocol Transport: Sendable {
    /// Runs `script` with the host's Python and returns what it printed; throws `FleetError` when the host
    /// cannot be reached or the deadline passes. The script is in parts (see ``AgentRequest/script(_:)``), which
    /// the host reads as one text.
    func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput

    /// Runs `script` and hands over each line it prints as it comes (`logs -f`, `exec`), until it ends or the task
    /// is cancelled (which ends it); returns its exit status.
    func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32

    /// Runs `script` on this terminal: standard input, output and errors are this process's, over a TTY on the host
    /// (`exec --one` of `manage.py shell`); returns its exit status.
    func interactive(python: String, script: ProcessInput) async throws -> Int32
}

extension Transport {
    /// The remote program for `interactive`: the script travels in the command line, base64 (quote-safe), so
    /// standard input stays the person's.
    static func interactiveProgram(_ script: ProcessInput) -> String {
        "import base64; exec(compile(base64.b64decode('\(Data(script.text.utf8).base64EncodedString())'), 'pinwheel', 'exec'))"
    }
}

/// One line a streamed command printed, and on which stream.
public struct OutputLine: Sendable, Equatable {
    public var text: String
    public var isError: Bool

    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// What a command printed and how it ended: the process runner's own record, so nothing copies it field by field.
public typealias CommandOutput = ProcessOutput
