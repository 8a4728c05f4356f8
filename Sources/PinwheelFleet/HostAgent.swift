import Foundation
import PinwheelCore

/// Carries out observations and phases on one host: each is one script over one session.
public struct HostAgent: Sendable {
    public let host: FleetHost
    public let environment: Environment
    public let transport: any Transport
    /// The config commit being applied, recorded in the manifests of the slots it prepares.
    public let commit: String?

    public init(host: FleetHost, environment: Environment, transport: any Transport, commit: String?) {
        self.host = host
        self.environment = environment
        self.transport = transport
        self.commit = commit
    }

    /// What the host has now.
    public func observe(timeout: Duration = .seconds(30)) async throws -> HostObservation {
        let reply = try await send(AgentRequest(.observe, environment: environment, host: host, commit: commit), timeout: timeout)
        guard reply.ok, let observation = reply.observation else {
            throw FleetError(.agent, "\(host.name): the agent could not observe the host: \(reply.error ?? "no observation")")
        }
        return observation
    }

    /// What a host reported, and the switch it made in the same round trip, if it made one.
    public struct Observed: Sendable {
        public var observation: HostObservation
        public var switched: PhaseResult?
    }

    /// Observes the host and, when the observation shows `slot` prepared as desired and healthy but not routed
    /// to, switches to it in the same round trip: what a rollback needs, one round trip per host instead of two.
    public func observe(routingIfReady slot: Slot, timeout: Duration = .seconds(30)) async throws -> Observed {
        let started = ContinuousClock.now
        var request = AgentRequest(.observe, environment: environment, host: host, commit: commit)
        request.routeIfReady = slot
        let reply = try await send(request, timeout: timeout)
        guard reply.ok, let observation = reply.observation else {
            throw FleetError(.agent, "\(host.name): the agent could not observe the host: \(reply.error ?? "no observation")")
        }
        guard let routed = reply.routed else { return Observed(observation: observation, switched: nil) }
        var result = PhaseResult(host: host.name, requested: [.verify(slot), .route(slot)])
        result.outcomes = Self.outcomes(routed.steps)
        result.observation = routed.observation
        if !routed.ok {
            result.error = Self.failure(host: host.name, outcomes: result.outcomes, error: routed.error)
        }
        result.duration = ContinuousClock.now - started
        return Observed(observation: observation, switched: result)
    }

    /// Runs `steps` in order, stopping at the first that fails; the host keeps serving what it served.
    public func execute(_ steps: [HostPlan.Step], timeout: Duration = .seconds(900)) async -> PhaseResult {
        let started = ContinuousClock.now
        var result = PhaseResult(host: host.name, requested: steps)
        do {
            let reply = try await send(AgentRequest(.execute, steps: steps, environment: environment, host: host, commit: commit),
                                       timeout: timeout)
            result.outcomes = Self.outcomes(reply.steps)
            result.observation = reply.observation
            if !reply.ok {
                result.error = Self.failure(host: host.name, outcomes: result.outcomes, error: reply.error)
            }
        } catch let error as FleetError {
            result.error = error
        } catch {
            result.error = FleetError(.agent, "\(host.name): \(error)")
        }
        result.duration = ContinuousClock.now - started
        return result
    }

    private static func outcomes(_ steps: [AgentReply.StepResult]?) -> [StepOutcome] {
        (steps ?? []).compactMap { step in
            step.step.planStep.map { StepOutcome(step: $0, ok: step.ok, seconds: step.seconds, output: step.output, error: step.error) }
        }
    }

    private static func failure(host: String, outcomes: [StepOutcome], error: String?) -> FleetError {
        let what = outcomes.first { !$0.ok }.map { "\($0.step) failed" } ?? "the agent failed"
        return FleetError(.stepFailed, "\(host): \(what): \(error ?? "no detail")")
    }

    private func send(_ request: AgentRequest, timeout: Duration) async throws -> AgentReply {
        let output = try await transport.run(python: environment.python, script: try request.script(), timeout: timeout)
        guard let reply = AgentReply.parse(output.standardOutput) else {
            var detail = output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            if detail.isEmpty { detail = String(output.standardOutput.suffix(2000)) }
            throw FleetError(.agent, "\(host.name): the agent gave no answer (exit \(output.status)); is `\(environment.python)` a Python 3 interpreter on the host? \(detail)")
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
}

public struct StepOutcome: Sendable {
    public var step: HostPlan.Step
    public var ok: Bool
    public var seconds: Double
    public var output: [String]
    public var error: String?
}
