import PinwheelCore
import PinwheelFleet

/// The one engine behind `pinwheel apply` and `pinwheel watch`: observe every host, plan each, and roll the plans
/// out by the environment's policy (prepare, canary, batches with pauses, the failure budget, `onFailure`).
///
/// Every decision is the `RolloutMachine`'s; this type only carries its actions out on the hosts, in parallel and
/// bounded, reports what happens as `ReconcileEvent`s, and keeps what each host reported last. One host's failure
/// or timeout never stops the others, and a failed step leaves the host serving what it served.
public struct EnvironmentReconciler: Sendable {
    public let environment: Environment
    /// The policy the rollout follows: the environment's own, unless a caller overrides it (`apply --all-at-once`).
    public var policy: Policy
    /// The hosts that have a transport, in the environment's order.
    public let agents: [HostAgent]
    public var observeTimeout: Duration = .seconds(30)
    public var stepTimeout: Duration = .seconds(900)
    /// Whether a host whose desired active slot is warm switches to it in the observing round trip.
    public var switchingWarm = true
    /// How many hosts are observed or switched at once: enough for a fleet to move together, never unbounded.
    public var fanOut = 64
    /// Called as things happen, from any task.
    public var events: @Sendable (ReconcileEvent) -> Void
    /// Waits out a pause between batches; tests inject their own clock.
    public var sleep: @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    /// Asked before each action: when it says stop, no new action starts (host steps under way finish).
    public var shouldStop: @Sendable () async -> Bool = { false }

    public init(environment: Environment, transports: [String: any Transport], commit: String?,
                events: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) {
        self.init(environment: environment, agents: HostAgent.agents(for: environment, transports: transports, commit: commit),
                  events: events)
    }

    /// With the agents a ``HostAgentFactory`` made (the controller's, real or in memory).
    public init(environment: Environment, agents: [HostAgent], events: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) {
        self.environment = environment
        policy = environment.policy
        self.agents = agents
        self.events = events
    }

    /// Observes every host and plans what it needs; changes nothing.
    public func plan() async -> [HostReport] {
        let timeout = observeTimeout
        let events = self.events
        return await concurrentMap(agents, limit: fanOut) { agent in
            let started = ContinuousClock.now
            do {
                let observation = try await agent.observe(timeout: timeout)
                let plan = Planner.plan(agent.target, observed: observation)
                events(.observed(agent.host.name, plan))
                return HostReport(host: agent.host.name, before: observation, plan: plan, duration: ContinuousClock.now - started)
            } catch {
                let failure = HostFailure(of: error)
                events(.unreachable(agent.host.name, failure))
                return HostReport(host: agent.host.name, error: failure, duration: ContinuousClock.now - started)
            }
        }
    }

    /// Makes every reachable host match the environment, by the policy.
    public func reconcile() async -> ReconcileReport {
        var machine = RolloutMachine(policy: policy, targets: agents.map(\.target), switchingWarm: switchingWarm,
                                     hooks: environment.hooks)
        var run = Run(agents: agents)
        while true {
            let action = machine.next()
            if case let .finish(outcome) = action {
                events(.finished(outcome))
                return run.report(outcome, stoppedEarly: false)
            }
            if await shouldStop() {
                let outcome = RolloutMachine.Outcome(result: .progressing, failures: machine.failures, revert: false,
                                                     message: "stopped by a shutdown before the rollout finished")
                events(.finished(outcome))
                return run.report(outcome, stoppedEarly: true)
            }
            events(.started(action))
            switch action {
            case let .observe(hosts, slot):
                let found = await observe(hosts, switchingTo: slot, agents: run.agents)
                machine.recordObserved(Self.observations(found))
                record(found, plans: machine.plans, of: hosts.count, into: &run)
                continue
            case let .pause(duration):
                await sleep(duration.duration)
            default:
                break
            }
            let failed = await carryOut(action, plans: machine.plans, into: &run)
            machine.record(action, failed: failed)
        }
    }

    // MARK: Carrying out actions

    /// Observes `hosts` in one round trip each. With a slot, each host first verifies it and switches to it: a host
    /// where the slot is not warm fails the verify, which changes nothing, and reports what it has like any other.
    private func observe(_ hosts: [String], switchingTo slot: Slot?, agents: [String: HostAgent]) async -> [ObservedHost] {
        let timeout = observeTimeout
        let events = self.events
        return await concurrentMap(hosts.compactMap { agents[$0] }, limit: fanOut) { agent in
            let name = agent.host.name
            guard let slot else {
                do {
                    return ObservedHost(name: name, observed: .init(observation: try await agent.observe(timeout: timeout)))
                } catch {
                    let failure = HostFailure(of: error)
                    events(.unreachable(name, failure))
                    return ObservedHost(name: name, observed: .init(observation: nil, error: failure), failure: failure)
                }
            }
            let result = await agent.execute([.verify(slot), .route(slot)], timeout: timeout, fullObservation: true)
            guard let observation = result.observation else {
                let failure = result.error ?? HostFailure(.badReply, message: "\(name): no observation")
                events(.unreachable(name, failure))
                return ObservedHost(name: name, observed: .init(observation: nil, error: failure), failure: failure)
            }
            let verified = result.outcomes.first { $0.step == .verify(slot) }?.ok ?? false
            let switched = verified && result.changedAnything
            // Not warm is not a failure: the verify refused, nothing changed. A switch that failed after the slot
            // verified (nginx refused the config, say) is one, and the host is back on its previous upstream.
            let failed = verified && !result.ok
            if switched || failed { events(.phase(result, stage: .warmSwitch)) }
            return ObservedHost(name: name, observed: .init(observation: observation, switched: switched,
                                                            error: failed ? result.error : nil),
                                phase: switched || failed ? result : nil)
        }
    }

    /// What the rollout machine needs of each observed host.
    private static func observations(_ found: [ObservedHost]) -> [String: RolloutMachine.Observed] {
        var observed: [String: RolloutMachine.Observed] = [:]
        for host in found {
            var observation = host.observed
            if let before = observation.observation, !observation.switched { observation.routedBefore = before.routed }
            observed[host.name] = observation
        }
        return observed
    }

    /// Starts each observed host's report with the plan the machine made for it (each host is planned once).
    private func record(_ found: [ObservedHost], plans: [String: HostPlan], of total: Int, into run: inout Run) {
        var planned: [HostPlan] = []
        for host in found {
            run.observed(host, plan: plans[host.name])
            if let plan = run.reports[host.name]?.plan {
                events(.observed(host.name, plan))
                planned.append(plan)
            }
        }
        events(.planned(planned, of: total))
    }

    /// Runs an action's steps on its hosts; returns the hosts that failed, with the reason.
    private func carryOut(_ action: RolloutMachine.Action, plans: [String: HostPlan], into run: inout Run) async -> [String: HostFailure] {
        let active = environment.active
        switch action {
        case let .prepare(hosts):
            return await runPhase(hosts, stage: .prepare, limit: policy.rollout.prepare, into: &run) { plans[$0]?.prepareSteps ?? [] }
        case let .route(hosts, stage):
            return await runPhase(hosts, stage: stage, limit: fanOut, into: &run) { host in
                plans[host]?.switchSteps ?? [.route(active), .check(active)]
            }
        case let .prepareIdle(hosts):
            return await runPhase(hosts, stage: .idle, limit: policy.rollout.prepare, into: &run) { plans[$0]?.idle ?? [] }
        case let .hook(kind, host):
            let step: HostPlan.Step = kind == .afterSwitch ? .afterSwitch(active) : .beforeSwitch(active)
            // A hook may run for as long as it says (a long migration), and the round trip a minute more.
            let timeout = max(stepTimeout, (environment.hooks[kind]?.timeout.duration ?? .zero) + .seconds(60))
            return await runPhase([host], stage: .hook(kind), limit: 1, timeout: timeout, into: &run) { _ in [step] }
        case let .rollBack(slots):
            return await runPhase(slots.keys.sorted(), stage: .rollBack, limit: fanOut, into: &run) { host in
                slots[host].map { [.route($0)] } ?? []
            }
        case .observe, .pause, .finish:
            return [:]
        }
    }

    private func runPhase(_ hosts: [String], stage: Stage, limit: Int, timeout: Duration? = nil, into run: inout Run,
                          steps: @escaping @Sendable (String) -> [HostPlan.Step]) async -> [String: HostFailure] {
        let agents = run.agents
        let timeout = timeout ?? stepTimeout
        let events = self.events
        let results: [PhaseResult?] = await concurrentMap(hosts, limit: limit) { host in
            guard let agent = agents[host] else { return nil }
            let result = await agent.execute(steps(host), timeout: timeout)
            events(.phase(result, stage: stage))
            return result
        }
        var failed: [String: HostFailure] = [:]
        for result in results.compactMap({ $0 }) {
            run.reports[result.host]?.record(result)
            if let error = result.error { failed[result.host] = error }
        }
        return failed
    }

    private struct ObservedHost: Sendable {
        var name: String
        var observed: RolloutMachine.Observed
        var failure: HostFailure?
        var phase: PhaseResult?
    }

    /// What one reconcile has seen and done so far, host by host.
    private struct Run {
        let agents: [String: HostAgent]
        let order: [String]
        var reports: [String: HostReport] = [:]
        let started = ContinuousClock.now

        init(agents: [HostAgent]) {
            self.agents = Dictionary(uniqueKeysWithValues: agents.map { ($0.host.name, $0) })
            order = agents.map(\.host.name)
        }

        mutating func observed(_ host: ObservedHost, plan: HostPlan?) {
            guard let observation = host.observed.observation, let plan else {
                reports[host.name] = HostReport(host: host.name, error: host.failure, duration: ContinuousClock.now - started)
                return
            }
            var report = HostReport(host: host.name, before: observation, plan: plan, duration: .zero)
            if let phase = host.phase { report.record(phase) }
            reports[host.name] = report
        }

        func report(_ outcome: RolloutMachine.Outcome, stoppedEarly: Bool) -> ReconcileReport {
            var hosts: [HostReport] = []
            for name in order {
                guard var report = reports[name] else { continue }
                // Converged means: what the host reports now needs nothing more.
                if report.error == nil, !report.phases.isEmpty, let after = report.after ?? report.before,
                   let target = agents[name]?.target {
                    report.remaining = Planner.plan(target, observed: after)
                }
                hosts.append(report)
            }
            return ReconcileReport(outcome: outcome, hosts: hosts, stoppedEarly: stoppedEarly,
                                   duration: ContinuousClock.now - started)
        }
    }
}

/// What one reconcile of an environment did.
public struct ReconcileReport: Sendable {
    public var outcome: RolloutMachine.Outcome
    /// Every host, in the environment's order.
    public var hosts: [HostReport]
    /// A shutdown stopped it between two actions.
    public var stoppedEarly: Bool
    public var duration: Duration

    /// What each host reported last.
    public var observations: [String: HostObservation] {
        var latest: [String: HostObservation] = [:]
        for host in hosts {
            if let observation = host.after ?? host.before { latest[host.host] = observation }
        }
        return latest
    }

    /// The hosts that could not be observed, and why.
    public var unreachable: [String: HostFailure] {
        var found: [String: HostFailure] = [:]
        for host in hosts where host.before == nil {
            found[host.host] = host.error ?? HostFailure(.unreachable, message: "not observed")
        }
        return found
    }
}

/// Something that happened during a reconcile: what `apply` prints, what `watch` logs, what tests assert on.
public enum ReconcileEvent: Sendable {
    /// A host was observed and planned.
    case observed(String, HostPlan)
    /// Every reachable host is planned: the rollout starts from these plans (`of` counts the hosts observed).
    case planned([HostPlan], of: Int)
    case unreachable(String, HostFailure)
    /// The rollout starts an action on its hosts (observe, prepare, a canary or batch switch, a pause, ...).
    case started(RolloutMachine.Action)
    /// A host finished its part of an action.
    case phase(PhaseResult, stage: Stage)
    case finished(RolloutMachine.Outcome)
}
