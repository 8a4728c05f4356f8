import Foundation
import PinwheelCore

/// Carries out observations and phases on one host: each is one script over one session.
public struct HostAgent: Sendable {
    /// The host's resolved desired state: what every request carries.
    public let target: HostTarget
    public let python: String
    public let transport: any Transport
    /// The config commit being applied, recorded in the manifests of the slots it prepares.
    public let commit: String?

    public var host: FleetHost { target.host }

    public init(target: HostTarget, python: String, transport: any Transport, commit: String?) {
        self.target = target
        self.python = python
        self.transport = transport
        self.commit = commit
    }

    /// What the host has now.
    public func observe(timeout: Duration = .seconds(30)) async throws -> HostObservation {
        let reply = try await send(AgentRequest(.observe, target: target, commit: commit), timeout: timeout)
        guard reply.ok, let observation = reply.observation else {
            throw FleetError(.agent, "\(host.name): the agent could not observe the host: \(reply.error ?? "no observation")")
        }
        return observation
    }

    /// Runs `steps` in order, stopping at the first that fails; the host keeps serving what it served.
    /// With `fullObservation`, the observation after success asks every web process for its health, as `observe` does.
    public func execute(_ steps: [HostPlan.Step], timeout: Duration = .seconds(900), fullObservation: Bool = false) async -> PhaseResult {
        let started = ContinuousClock.now
        var result = PhaseResult(host: host.name, requested: steps)
        do {
            let request = AgentRequest(.execute, steps: steps, target: target, commit: commit, fullObservation: fullObservation)
            let reply = try await send(request, timeout: timeout)
            result.outcomes = (reply.steps ?? []).map {
                StepOutcome(step: $0.step, ok: $0.ok, seconds: $0.seconds, output: $0.output, changed: $0.changed ?? true,
                            code: $0.code, error: $0.error)
            }
            result.observation = reply.observation
            if !reply.ok {
                let failed = result.outcomes.first { !$0.ok }
                let what = failed.map { "\($0.step) failed" } ?? "the agent failed"
                result.error = FleetError(reply.code == "locked" ? .locked : .stepFailed,
                                          "\(host.name): \(what): \(reply.error ?? "no detail")")
            }
        } catch let error as FleetError {
            result.error = error
        } catch {
            result.error = FleetError(.agent, "\(host.name): \(error)")
        }
        result.duration = ContinuousClock.now - started
        return result
    }

    private func send(_ request: AgentRequest, timeout: Duration) async throws -> AgentReply {
        let output = try await transport.run(python: python, script: try request.script(), timeout: timeout)
        guard let reply = AgentReply.parse(output.standardOutput) else {
            var detail = output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            if detail.isEmpty { detail = String(output.standardOutput.suffix(2000)) }
            throw FleetError(.agent, "\(host.name): the agent gave no answer (exit \(output.status)); is `\(python)` a Python 3 interpreter on the host? \(detail)")
        }
        guard reply.protocol == AgentRequest.protocolVersion else {
            throw FleetError(.agent, "\(host.name): the host agent speaks protocol \(reply.protocol.map(String.init) ?? "1"), "
                + "this pinwheel speaks protocol \(AgentRequest.protocolVersion): \(reply.error ?? "a stale compiled agent on the host?")")
        }
        return reply
    }
}

/// What happened to one host in one phase.
public struct PhaseResult: Sendable {
    public var host: String
    public var requested: [HostPlan.Step]
    public var outcomes: [StepOutcome] = []
    /// Set when the phase did not complete: the host's own output is in the message.
    public var error: FleetError?
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
    public var code: String?
    public var error: String?
}
