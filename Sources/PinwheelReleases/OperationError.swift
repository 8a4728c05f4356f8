import PinwheelCore

/// Why a release, rollback, history or status read did nothing, with a message for the person who asked.
///
/// The command-line tool maps ``Code/usage`` to exit status 2 and every other code to 1.
public struct OperationError: Error, CustomStringConvertible, Sendable {
    /// What kind of refusal this is: an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String

        /// The operation was asked for wrongly: an unknown environment or revision, a branch that exists
        /// already, a detached HEAD. Nothing was tried.
        public static let usage = Code(description: "usage")
        /// The environment is invalid now, or would be after the change; ``OperationError/diagnostics`` says why.
        public static let invalid = Code(description: "invalid")
        /// The work tree has uncommitted changes to files the commit would write.
        public static let dirtyWorkTree = Code(description: "dirty work tree")
        /// A revert conflicts with later changes to the same lines.
        public static let conflict = Code(description: "conflict")
        /// There is nothing to act on: no commit to roll back, no status recorded.
        public static let notFound = Code(description: "not found")
        /// The branch moved while the operation ran; running it again is safe.
        public static let raced = Code(description: "raced")
        /// The change itself cannot be made (a package not pinned, a bad version).
        public static let refused = Code(description: "refused")
        /// Something the operation needs on this machine failed: a program it runs (ssh-keygen), a temporary file.
        public static let failed = Code(description: "failed")
    }

    public var code: Code
    /// One line on what happened; says that nothing was committed when that is so.
    public var message: String
    /// What to do about it, when there is something to say.
    public var hint: String?
    /// The config problems behind an ``Code/invalid`` error.
    public var diagnostics: [Diagnostic]

    public init(_ code: Code, _ message: String, hint: String? = nil, diagnostics: [Diagnostic] = []) {
        self.code = code
        self.message = message
        self.hint = hint
        self.diagnostics = diagnostics
    }

    public var description: String {
        hint.map { "\(message)\n\($0)" } ?? message
    }
}
