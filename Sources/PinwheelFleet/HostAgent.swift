import Foundation
import PinwheelCore
import Synchronization

/// Carries out observations and phases on one host: each is one script over one session.
public struct HostAgent: Sendable {
    /// The host's resolved desired state: what every request carries.
    public let target: HostTarget
    public let python: String
    public let transport: any Transport
    /// The config commit being applied, recorded in the manifests of the slots it prepares.
    public let commit: String?
    /// The environment's lease epoch, sent with every request when controllers share a fleet (the host's fence
    /// refuses lower ones); nil when this controller runs alone.
    public var epoch: Int64?
    /// With `source: {ship: …}`: the environment's shipper, shared by its agents, which sends each host the files
    /// its prepares install before they run.
    public var shipper: ArtifactShipper?

    public var host: FleetHost { target.host }

    public init(target: HostTarget, python: String, transport: any Transport, commit: String?) {
        self.target = target
        self.python = python
        self.transport = transport
        self.commit = commit
    }

    /// What the host has now.
    public func observe(timeout: Duration = .seconds(30)) async throws -> HostObservation {
        let reply = try await send(AgentRequest(.observe, target: target, commit: commit, epoch: epoch), timeout: timeout)
        guard reply.ok, let observation = reply.observation else {
            throw FleetError(.agent, "\(host.name): the agent could not observe the host",
                             detail: reply.error.map { HostText.bounded($0, limit: HostText.detailLimit, newlines: true) },
                             reported: FailureCode(reply.code ?? "internal"))
        }
        if let shipper { await shipper.note(observation.platform, of: host.name) }
        return observation
    }

    /// The last `lines` lines of the programs' logs (all programs when `programs` is empty) in `slots`, and with
    /// `follow` what they print after, until the task is cancelled. Each line comes with the log it is from.
    public func logs(slots: [Slot], programs: [String], lines: Int, follow: Bool,
                     line: @escaping @Sendable (LogLine) async -> Void) async throws {
        var request = AgentRequest(.logs, target: target, commit: commit, epoch: epoch)
        request.logs = .init(slots: slots, programs: programs, lines: lines, follow: follow)
        let source = Mutex<String>("")
        let errors = Mutex<[String]>([])
        let status = try await transport.stream(python: python, script: try request.script()) { output in
            if output.isError {
                errors.withLock { $0.append(output.text) }
                return
            }
            if output.text.hasPrefix(AgentReply.marker) {
                errors.withLock { $0.append(output.text) }
                return
            }
            // tail names each file before its lines: `==> /srv/pinwheel/E/logs/hello-web-A_8100.log <==`.
            if output.text.hasPrefix("==> "), output.text.hasSuffix(" <==") {
                let path = output.text.dropFirst(4).dropLast(4)
                source.withLock { $0 = HostReplyBounds.string(String((path.split(separator: "/").last ?? "").dropLast(".log".count))) }
                return
            }
            if output.text.isEmpty { return }
            await line(LogLine(process: source.withLock { $0 }, text: HostReplyBounds.string(output.text)))
        }
        try check(status: status, errors: errors.withLock { $0 })
    }

    /// Runs `argv` (no shell anywhere) in `slot`'s venv as its program `program` runs (the first when nil), and
    /// hands over each line it prints; returns its exit status.
    public func exec(slot: Slot, program: String?, argv: [String],
                     line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        var request = AgentRequest(.exec, target: target, commit: commit, epoch: epoch)
        request.exec = .init(slot: slot, program: program, argv: argv)
        let refusal = Mutex<String?>(nil)
        let status = try await transport.stream(python: python, script: try request.script()) { output in
            if !output.isError, output.text.hasPrefix(AgentReply.marker) {
                refusal.withLock { $0 = output.text }
                return
            }
            await line(output)
        }
        if let refusal = refusal.withLock({ $0 }) { try check(status: status, errors: [refusal]) }
        return status
    }

    /// Runs `argv` as `exec` does, on this terminal (a TTY on the host, this process's standard input): for an
    /// interactive command such as `manage.py shell`. Returns its exit status.
    public func execInteractive(slot: Slot, program: String?, argv: [String]) async throws -> Int32 {
        // One ordinary round trip first: it proves the host is there and leaves the compiled agent that the small
        // loader of the interactive session runs (the agent's source is too big for a command line).
        _ = try await observe()
        var request = AgentRequest(.exec, target: target, commit: commit, epoch: epoch)
        request.exec = .init(slot: slot, program: program, argv: argv)
        return try await transport.interactive(python: python, script: try request.script(.cachedOnly))
    }

    /// Turns the agent's refusal (its reply line) into an error; what else it said to stderr is the detail.
    private func check(status: Int32, errors: [String]) throws {
        if let line = errors.last(where: { $0.hasPrefix(AgentReply.marker) }), let reply = AgentReply.parse(line), !reply.ok {
            let said = HostText.bounded(reply.error ?? reply.code ?? "the agent refused", limit: HostText.messageLimit)
            throw FleetError(.agent, "\(host.name): \(said)", reported: reply.code.map { FailureCode($0) })
        }
        if status != 0 {
            let detail = HostText.bounded(errors.suffix(5).joined(separator: "; "), limit: HostText.messageLimit, keepingEnd: true)
            throw FleetError(.agent, "\(host.name): exited \(status)\(detail.isEmpty ? "" : ": \(detail)")")
        }
    }

    /// Runs `steps` in order, stopping at the first that fails; the host keeps serving what it served.
    /// With `fullObservation`, the observation after success asks every web process for its health, as `observe` does.
    public func execute(_ steps: [HostPlan.Step], timeout: Duration = .seconds(900), fullObservation: Bool = false) async -> PhaseResult {
        let started = ContinuousClock.now
        var result = PhaseResult(host: host.name, requested: steps)
        do {
            var request = AgentRequest(.execute, steps: steps, target: target, commit: commit, fullObservation: fullObservation,
                                       epoch: epoch)
            var shipped: ShipReport?
            do {
                request.artifacts = try await shippedArtifacts(for: steps)
                if let artifacts = request.artifacts {
                    request.uv = try await shipper?.uvWheel(for: await shipper?.platform(of: host.name))
                    shipped = try await ship(artifacts, uv: request.uv, timeout: timeout)
                }
            } catch let error as ShipError {
                let step = steps.first { if case .prepare = $0 { return true } else { return false } }
                result.error = HostFailure(.install, step: step?.description, message: "shipping the slot's files failed: \(error)")
                result.duration = ContinuousClock.now - started
                return result
            }
            let reply = try await send(request, timeout: timeout)
            result.outcomes = (reply.steps ?? []).map {
                StepOutcome(step: $0.step, ok: $0.ok, seconds: $0.seconds, output: $0.output, changed: $0.changed ?? true,
                            code: $0.code.map { FailureCode($0) }, error: $0.error, detail: $0.detail,
                            nginxVerifySeconds: $0.nginxVerifySeconds)
            }
            if let shipped, shipped.files > 0,
               let index = result.outcomes.firstIndex(where: { if case .prepare = $0.step { return true } else { return false } }) {
                result.outcomes[index].output.insert("shipped \(shipped.files) file(s), \(shipped.bytes) bytes"
                    + (shipped.resumed > 0 ? ", \(shipped.resumed) continued from a partial file" : ""), at: 0)
            }
            result.observation = reply.observation
            if let shipper, let observation = reply.observation { await shipper.note(observation.platform, of: host.name) }
            if !reply.ok {
                result.error = Self.failure(of: reply, outcomes: result.outcomes)
            }
        } catch {
            result.error = HostFailure(of: error)
        }
        result.duration = ContinuousClock.now - started
        return result
    }

    /// Why a request failed, from the agent's answer: the failed step's code, step and diagnosis, and its output as
    /// the detail; without a failed step, the reply's own code (`locked`, `badRequest`, `internal`).
    static func failure(of reply: AgentReply, outcomes: [StepOutcome]) -> HostFailure {
        if let failed = outcomes.first(where: { !$0.ok }) {
            // What the host printed: the failure's own lines, else what the step said before it failed.
            let detail = failed.detail ?? failed.output.suffix(20).joined(separator: "\n")
            return HostFailure(failed.code ?? .internal, step: failed.step.description,
                               message: failed.error ?? "\(failed.step) failed", detail: detail)
        }
        return HostFailure(FailureCode(reply.code ?? "internal"), message: reply.error ?? "the agent failed")
    }

    func send(_ request: AgentRequest, timeout: Duration) async throws -> AgentReply {
        if let resident = transport as? ResidentTransport,
           let reply = try await resident.send(request, python: python, timeout: timeout) {
            return try speaksOurProtocol(reply)
        }
        var output = try await transport.run(python: python, script: try request.script(.cached), timeout: timeout)
        if output.standardOutput.hasPrefix(AgentRequest.missingAgent) {
            // The host's first round trip with this version of the agent: again, with the agent, which it keeps.
            output = try await transport.run(python: python, script: try request.script(.withSource), timeout: timeout)
        }
        guard let reply = AgentReply.parse(output.standardOutput) else {
            var detail = output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            if detail.isEmpty { detail = String(output.standardOutput.suffix(2000)) }
            throw FleetError(.agent, "\(host.name): the agent gave no answer (exit \(output.status)); is `\(python)` a Python 3 interpreter on the host?",
                             detail: HostText.bounded(detail, limit: HostText.detailLimit, keepingEnd: true, newlines: true))
        }
        return try speaksOurProtocol(reply)
    }

    /// The reply, when the agent that gave it speaks this pinwheel's protocol.
    private func speaksOurProtocol(_ reply: AgentReply) throws -> AgentReply {
        guard reply.protocol == AgentRequest.protocolVersion else {
            throw FleetError(.protocolMismatch, "\(host.name): the host agent speaks protocol \(reply.protocol.map(String.init) ?? "1"), "
                + "this pinwheel speaks protocol \(AgentRequest.protocolVersion): a stale compiled agent on the host?",
                             detail: reply.error.map { HostText.bounded($0, limit: HostText.detailLimit, newlines: true) })
        }
        return reply
    }
}

/// One line of a program's log: the process it is from (`hello-web-A_8100`) and its text.
public struct LogLine: Sendable, Equatable {
    public var process: String
    public var text: String

    public init(process: String, text: String) {
        self.process = process
        self.text = text
    }
}

/// What happened to one host in one phase.
public struct PhaseResult: Sendable {
    public var host: String
    public var requested: [HostPlan.Step]
    public var outcomes: [StepOutcome] = []
    /// Set when the phase did not complete: why, as data (the host's own output is its detail).
    public var error: HostFailure?
    /// What the host had after the phase, as the agent saw it.
    public var observation: HostObservation?
    public var duration: Duration = .zero

    public var ok: Bool { error == nil }

    /// Whether any step changed anything on the host.
    public var changedAnything: Bool { outcomes.contains { $0.ok && $0.changed } }
}

public struct StepOutcome: Sendable {
    public var step: HostPlan.Step
    public var ok: Bool
    public var seconds: Double
    public var output: [String]
    /// Whether the step changed anything on the host.
    public var changed: Bool
    /// The agent's code for a failure (`install`, `health`, `nginxTest`, …).
    public var code: FailureCode?
    /// The agent's diagnosis of a failure, one line.
    public var error: String?
    /// What the host printed about a failure (a program's or a command's last lines).
    public var detail: String?
    /// For a `route` step, how long nginx took to answer from the new slot, as the agent measured it.
    public var nginxVerifySeconds: Double?
}
