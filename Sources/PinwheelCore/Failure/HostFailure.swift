/// Why one host failed, as data: a code to act on, the step that failed, and Pinwheel's diagnosis in one line.
///
/// The diagnosis is what may be recorded in git (the status file, a revert's message): the step, its code, the exit
/// status or the health answer, never the program's own output. That output, which can hold a command line with a
/// secret, is `detail`: kept, bounded and escaped, for `pinwheel logs`-like places (the log, the page, notifications).
public struct HostFailure: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: FailureCode
    /// The step that failed as the plan names it (`check B`, `route A`, `beforeSwitch A`), or nil when none ran (the
    /// host could not be observed or reached).
    public var step: String?
    /// Pinwheel's diagnosis, one line.
    public var message: String
    /// What the host printed about it (the failed step's output, the agent's error stream); never written to git.
    public var detail: String?

    public init(_ code: FailureCode, step: String? = nil, message: String, detail: String? = nil) {
        self.code = code
        self.step = step
        self.message = HostText.bounded(message, limit: HostText.messageLimit)
        self.detail = detail.flatMap { $0.isEmpty ? nil : HostText.bounded($0, limit: HostText.detailLimit, keepingEnd: true, newlines: true) }
    }

    /// One line for people: `check B: health — slot B failed its health check …`.
    public var description: String {
        (step.map { "\($0): " } ?? "") + "\(code) — \(message)"
    }

    /// What the status file records: the same failure without the host's output.
    public var reason: StatusReason {
        StatusReason(code: code.rawValue, step: step, message: message)
    }

    /// The same failure, its message prefixed (`idle slot: …`, `rolling back failed: …`).
    public func prefixed(_ prefix: String) -> HostFailure {
        var copy = self
        copy.message = prefix + message
        return copy
    }
}
