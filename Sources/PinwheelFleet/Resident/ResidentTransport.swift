import Foundation
import PinwheelCore
import PinwheelProcess

/// An SSH host reached through a resident agent (``ResidentSessions``) for requests answered in one reply (observe,
/// execute, shipping), and through `base` — today's one-shot round trip — for everything else (`logs`, `exec`, a
/// terminal) and whenever no session can be had.
///
/// Each request still carries its epoch (the host's fence), takes the host's lock on the host as a one-shot agent
/// does, and has its own deadline; with a ``ConnectionLimit`` it takes a place for as long as it is in flight, as a
/// one-shot round trip does (idle sessions take none: their number is ``ResidentSessions/capacity``'s to bound).
public struct ResidentTransport: Transport {
    /// The one-shot path (possibly a ``LimitedTransport``).
    public let base: any Transport
    public let ssh: SSHTransport
    public let sessions: ResidentSessions
    public let limit: ConnectionLimit?

    public init(_ ssh: SSHTransport, base: (any Transport)? = nil, sessions: ResidentSessions, limit: ConnectionLimit? = nil) {
        self.ssh = ssh
        self.base = base ?? ssh
        self.sessions = sessions
        self.limit = limit
    }

    public func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
        try await base.run(python: python, script: script, timeout: timeout)
    }

    public func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        try await base.stream(python: python, script: script, line: line)
    }

    public func interactive(python: String, script: ProcessInput) async throws -> Int32 {
        try await base.interactive(python: python, script: script)
    }

    /// The session's key: whom the connection trusts (``SSHTransport/controlName``, in its folder) and the interpreter.
    func key(python: String) -> String {
        "\(ssh.controlDirectory)/\(ssh.controlName)\u{0}\(python)"
    }

    /// The reply to `request` from the host's resident agent; nil when it should take the one-shot path.
    func send(_ request: AgentRequest, python: String, timeout: Duration) async throws -> AgentReply? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = Array(try encoder.encode(request))
        let readOnly = request.action == .observe || request.action == .artifacts
        let key = key(python: python)
        let host = ssh.host
        for attempt in 0..<2 {
            try RuntimeFolder.prepare(ssh.controlDirectory)
            let ssh = self.ssh
            // The ssh command line is made only when a session starts, not for every request to an open one.
            guard let taken = await sessions.checkout(key, start: {
                ResidentSession(arguments: ssh.arguments(command: ResidentScript.command(python: python), terminal: false))
            }) else {
                return nil
            }
            let (session, fresh) = taken
            let outcome: ResidentOutcome
            if let limit {
                outcome = await limit.withPlace { await session.send(payload, timeout: timeout) }
            } else {
                outcome = await session.send(payload, timeout: timeout)
            }
            await sessions.checkin(key, session)
            switch outcome {
            case let .reply(bytes):
                guard let reply = (try? JSONDecoder().decode(AgentReply.self, from: Data(bytes)))?.bounded() else {
                    throw FleetError(.agent, "\(host.name): the resident agent's answer is not the agent's JSON",
                                     detail: HostText.bounded(String(decoding: bytes.prefix(2000), as: UTF8.self),
                                                              limit: HostText.detailLimit, newlines: true))
                }
                return reply
            case .timedOut:
                throw FleetError(.timeout, "\(host.name): no answer within \(timeout)")
            case let .broken(why):
                throw FleetError(.agent, "\(host.name): \(why)")
            case let .ended(status, errors, _):
                if attempt == 0, outcome.allowsRetry(readOnly: readOnly, freshSession: fresh) { continue }
                if status == 255 {
                    throw SSHTransport.classify(errors, host: host, knownHostsFile: ssh.knownHostsFile)
                }
                throw FleetError(.agent, "\(host.name): the resident agent ended without an answer (exit \(status.map(String.init) ?? "unknown")); "
                    + "is `\(python)` a Python 3 interpreter on the host?",
                                 detail: HostText.bounded(errors.trimmingCharacters(in: .whitespacesAndNewlines),
                                                          limit: HostText.detailLimit, keepingEnd: true, newlines: true))
            }
        }
        return nil
    }
}
