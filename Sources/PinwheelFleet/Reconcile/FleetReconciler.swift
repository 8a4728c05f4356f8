import Foundation
import PinwheelCore

/// One reconcile of an environment: observe every host, plan each, then carry the plans out.
///
/// Hosts run in parallel and one host's failure or timeout never stops the others. Work is done in two
/// fleet-wide phases: first each host makes its active slot ready and switches to it, then the idle slots are
/// prepared. So a rollback (the active slot is already warm) puts every host back on the old version before any
/// host starts an install.
public struct FleetReconciler: Sendable {
    public var environment: Environment
    public var agents: [HostAgent]
    public var observeTimeout: Duration = .seconds(30)
    public var phaseTimeout: Duration = .seconds(900)
    /// Called as things happen, from any task.
    public var events: @Sendable (FleetEvent) -> Void

    public init(environment: Environment, transports: [String: any Transport], commit: String?,
                events: @escaping @Sendable (FleetEvent) -> Void = { _ in }) {
        self.environment = environment
        self.agents = environment.hosts.compactMap { host in
            transports[host.name].map { HostAgent(host: host, environment: environment, transport: $0, commit: commit) }
        }
        self.events = events
    }

    private var parallelism: Int { environment.policy.rollout.prepare }

    /// Observes every host and plans what it needs; changes nothing.
    public func plan() async -> [HostReport] {
        await observeAndPlan(switchingIfReady: false)
    }

    /// With `switchingIfReady`, a host whose active slot is already prepared and healthy but not routed to switches
    /// in the observing round trip itself (the switch its plan would start with), so a rollback costs one round
    /// trip per host; the plan is then made from what the host has after the switch.
    private func observeAndPlan(switchingIfReady: Bool) async -> [HostReport] {
        let timeout = observeTimeout
        let events = self.events
        let environment = self.environment
        return await concurrentMap(agents, limit: max(parallelism, 32)) { agent in
            let started = ContinuousClock.now
            do {
                var observation: HostObservation
                var switched: PhaseResult?
                if switchingIfReady {
                    let observed = try await agent.observe(routingIfReady: environment.active, timeout: timeout)
                    observation = observed.observation
                    switched = observed.switched
                } else {
                    observation = try await agent.observe(timeout: timeout)
                }
                let before = observation
                if let switched {
                    events(.phase(switched))
                    if let after = switched.observation { observation = after }
                }
                let plan = Planner.plan(environment, host: agent.host, observed: observation)
                if switched == nil { events(.observed(agent.host.name, plan)) }
                var report = HostReport(host: agent.host.name, before: before, plan: plan, duration: .zero)
                if let switched { report.record(switched) }
                report.duration = ContinuousClock.now - started
                return report
            } catch {
                let failure = error as? FleetError ?? FleetError(.agent, "\(error)")
                events(.unreachable(agent.host.name, failure))
                return HostReport(host: agent.host.name, error: failure, duration: ContinuousClock.now - started)
            }
        }
    }

    /// Makes every reachable host match the environment.
    public func apply() async -> [HostReport] {
        let planned = await observeAndPlan(switchingIfReady: true)
        let agentsByName = Dictionary(uniqueKeysWithValues: agents.map { ($0.host.name, $0) })
        let timeout = phaseTimeout
        let events = self.events

        // Phase 1: make the active slot ready and switch to it. A host that installs its active slot anyway goes on
        // to its idle slot in the same round trip: only hosts that merely switch wait for the whole fleet's switch.
        let first = planned.filter { $0.error == nil && !(($0.plan?.activate ?? []).isEmpty && $0.plan?.route == nil) }
        let firstResults = await concurrentMap(first, limit: parallelism) { report -> PhaseResult in
            let plan = report.plan!
            let result = await agentsByName[report.host]!.execute(Self.firstPhase(of: plan), timeout: timeout)
            events(.phase(result))
            return result
        }
        var reports = Dictionary(uniqueKeysWithValues: planned.map { ($0.host, $0) })
        for result in firstResults { reports[result.host]?.record(result) }

        // Phase 2: prepare idle slots, on hosts that did not fail and did not do it already.
        let second = planned.filter { report in
            guard reports[report.host]?.error == nil, let plan = report.plan, !plan.idle.isEmpty else { return false }
            return Self.firstPhase(of: plan).count == plan.activate.count + (plan.route == nil ? 0 : 1)
        }
        let secondResults = await concurrentMap(second, limit: parallelism) { report -> PhaseResult in
            let result = await agentsByName[report.host]!.execute(report.plan!.idle, timeout: timeout)
            events(.phase(result))
            return result
        }
        for result in secondResults { reports[result.host]?.record(result) }

        // Converged means: what the host reports now needs nothing more.
        for (name, report) in reports where report.error == nil {
            guard let agent = agentsByName[name], let after = report.after ?? report.before else { continue }
            let remaining = Planner.plan(environment, host: agent.host, observed: after)
            reports[name]?.remaining = remaining
        }
        return planned.map { reports[$0.host]! }
    }

    /// What a host does in the first phase: its active slot's steps and the switch, and its idle slot's steps too
    /// when it is installing anyway.
    static func firstPhase(of plan: HostPlan) -> [HostPlan.Step] {
        let installs = plan.activate.contains { if case .prepare = $0 { return true } else { return false } }
        return plan.activate + (plan.route.map { [$0] } ?? []) + (installs ? plan.idle : [])
    }
}

/// Something that happened during a reconcile, for progress output.
public enum FleetEvent: Sendable {
    case observed(String, HostPlan)
    case unreachable(String, FleetError)
    case phase(PhaseResult)
}

/// What a reconcile found and did on one host.
public struct HostReport: Sendable {
    public var host: String
    /// What the host had before anything was done.
    public var before: HostObservation?
    public var plan: HostPlan?
    public var phases: [PhaseResult] = []
    /// What the host had at the end, when anything was done.
    public var after: HostObservation?
    /// What the host still needs after the run; empty when it converged.
    public var remaining: HostPlan?
    public var error: FleetError?
    public var duration: Duration = .zero

    init(host: String, before: HostObservation? = nil, plan: HostPlan? = nil, error: FleetError? = nil, duration: Duration) {
        self.host = host
        self.before = before
        self.plan = plan
        self.error = error
        self.duration = duration
    }

    mutating func record(_ result: PhaseResult) {
        phases.append(result)
        if let observation = result.observation { after = observation }
        if let error = result.error { self.error = error }
        duration += result.duration
    }

    public enum Outcome: String, Sendable, Codable {
        /// Nothing to do: it already matched.
        case converged
        /// Changed, and matches now.
        case changed
        /// A step failed; the host keeps serving what it served.
        case failed
        /// Could not be observed.
        case unreachable
    }

    public var outcome: Outcome {
        if let error {
            return before == nil && phases.isEmpty && error.code != .agent ? .unreachable : .failed
        }
        if phases.isEmpty { return (plan?.isEmpty ?? false) ? .converged : .failed }
        return (remaining?.isEmpty ?? false) ? .changed : .failed
    }
}
