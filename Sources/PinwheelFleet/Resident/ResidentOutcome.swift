/// How one request sent to a resident agent ended.
public enum ResidentOutcome: Sendable, Equatable {
    /// The agent's reply (its JSON), whole.
    case reply([UInt8])
    /// No reply by the request's deadline: the session was killed, as a one-shot round trip is; the host may still be
    /// working.
    case timedOut
    /// The session ended without a reply. `delivered` says whether the request was written whole to the session (a
    /// request that was not never ran: the host's loop acts on whole frames only); `status` is ssh's exit status
    /// (255: ssh itself failed) and `errors` the last of what it and the agent wrote to standard error.
    case ended(status: Int32?, errors: String, delivered: Bool)
    /// The host's reply could not be read as frames (an oversized one): the session was killed.
    case broken(String)

    /// Whether the same request may be sent once more, on a fresh session: only when it provably never reached the
    /// agent (not written whole), or when it changes nothing on the host (`readOnly`: an observation, a question about
    /// artifacts) and the session that lost it had served before, so it was a stale session (its agent or ssh killed
    /// while it sat idle) rather than a host that fails every fresh start. A switch is never sent twice blindly, and a
    /// request past its deadline is a timeout, as today.
    public func allowsRetry(readOnly: Bool, freshSession: Bool) -> Bool {
        guard case let .ended(_, _, delivered) = self else { return false }
        return !delivered || (readOnly && !freshSession)
    }
}
