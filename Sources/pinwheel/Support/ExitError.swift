/// How a command ends when it does not succeed: the exit status, and what to say first.
///
/// The one error the commands throw to end with a status, so each status means the same in every command and `Main`
/// is the one place that prints and exits: 1 when the config is invalid or the operation failed, 2 for a mistake in
/// how the command was called or a repository it cannot read. A command's or an option group's `validate()` throws it
/// too (`.usage`, printed with the command's usage line); only a mistake argument-parser finds itself (an unknown
/// option) is its own error, which `Main` says the same way, with 2.
struct ExitError: Error, Equatable, CustomStringConvertible {
    /// The process's exit status.
    var code: Int32
    /// Why, for standard error; nil when the command has printed why already (diagnostics, a summary).
    var message: String?

    /// The config is invalid or the operation failed, and the command has said why: exit status 1.
    static let failed = ExitError(code: 1, message: nil)

    /// The operation failed for this reason: `pinwheel: <message>`, exit status 1.
    static func failed(_ message: String) -> ExitError {
        ExitError(code: 1, message: message)
    }

    /// A mistake in how the command was called, or a repository it cannot read: `pinwheel: error: <message>`, exit
    /// status 2, the convention of most Unix tools, so scripts can tell "called wrong" from "the config is invalid".
    static func usage(_ message: String) -> ExitError {
        ExitError(code: 2, message: message)
    }

    /// Another program's exit status passed on as it is (`exec --one` exits with the remote command's status).
    static func status(_ code: Int32) -> ExitError {
        ExitError(code: code, message: nil)
    }

    /// The line `Main` writes to standard error, if any.
    var line: String? {
        message.map { code == 2 ? "pinwheel: error: \($0)" : "pinwheel: \($0)" }
    }

    var description: String { line ?? "exit status \(code)" }
}
