/// Why a program did not run to its end: its deadline passed, or its input could not be written.
public struct ProcessError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The deadline passed; the program was stopped (SIGTERM, then SIGKILL).
        case timeout
        /// The temporary file its standard input comes from could not be made.
        case io
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
