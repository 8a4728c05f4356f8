import Foundation
import PinwheelCore
import PinwheelFleet
import Synchronization

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
    /// Where the policy's `analysis:` metrics come from (the operator's Prometheus, `--prometheus`); nil measures
    /// nothing, so a metric has no data and its `noData` decides (by default the rollout holds).
    public var metricSource: (any MetricQuerying)?
    /// The bake's clock and wait; the wait must throw `CancellationError` when the task is cancelled, so a newer
    /// commit or a shutdown ends a bake at once.
    public var now: @Sendable () -> Date = { Date() }
    public var bakeSleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    /// How often the switched hosts' health is checked again during a bake.
    public var bakeHealthInterval: Duration = .seconds(5)

    /// `artifactCache` keeps the files of an environment whose source is `ship` (default: ``ArtifactCache/defaultFolder()``).
    public init(environment: Environment, transports: [String: any Transport], commit: String?, artifactCache: ArtifactCache? = nil,
                events: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) {
        self.init(environment: environment,
                  agents: HostAgent.agents(for: environment, transports: transports, commit: commit, artifactCache: artifactCache),
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
    ///
    /// Cancelling the task that runs it stops the rollout at the next safe point (preemption, `apply`'s Ctrl-C): a
    /// pause or wait ends at once, no new action starts, and no host not yet reached in the action under way is
    /// touched; but a host's round trip under way is never cut (it runs shielded from the cancellation), so no host
    /// is left half switched. The report then says where it stopped (``ReconcileReport/interruption``).
    public func reconcile() async -> ReconcileReport {
        let cancelled = CancellationFlag()
        return await withTaskCancellationHandler {
            await reconcile(cancelled: cancelled)
        } onCancel: {
            cancelled.set()
        }
    }

    private func reconcile(cancelled: CancellationFlag) async -> ReconcileReport {
        var machine = RolloutMachine(policy: policy, targets: agents.map(\.target), switchingWarm: switchingWarm,
                                     hooks: environment.hooks)
        var run = Run(agents: agents)
        var stage: Stage?
        while true {
            let action = machine.next()
            if case let .finish(outcome) = action {
                events(.finished(outcome))
                return run.report(outcome, stoppedEarly: false)
            }
            if cancelled.isSet {
                return interrupted(at: stage, machine: machine, run: run)
            }
            if await shouldStop() {
                let outcome = RolloutMachine.Outcome(result: .progressing, failures: machine.failures, revert: false,
                                                     message: "stopped by a shutdown before the rollout finished")
                events(.finished(outcome))
                return run.report(outcome, stoppedEarly: true)
            }
            events(.started(action))
            stage = action.stage
            switch action {
            case let .observe(hosts, slot):
                // Shielded: a rollback's warm switch happens in this round trip.
                let found = await Self.shielded { [self, agents = run.agents] in
                    await observe(hosts, switchingTo: slot, agents: agents)
                }
                machine.recordObserved(Self.observations(found))
                record(found, plans: machine.plans, of: hosts.count, into: &run)
                continue
            case let .pause(duration):
                // Cancellable: a pause ends at once when the rollout is interrupted.
                await sleep(duration.duration)
            case let .bake(hosts, stage, duration):
                do {
                    let report = try await bake(hosts, after: stage, duration: duration, into: &run)
                    switch report.result {
                    case .passed: machine.record(action, failed: [:])
                    case let .unhealthy(failed): machine.record(action, failed: failed)
                    case let .failed(_, reason): machine.recordAnalysisFailure("\(stage.name): \(reason)")
                    }
                } catch {
                    // A newer commit (or apply's Ctrl-C) ended the bake: the rollout stops here, as at any safe point.
                    if cancelled.isSet {
                        return interrupted(at: stage, machine: machine, run: run)
                    }
                    let outcome = RolloutMachine.Outcome(result: .progressing, failures: machine.failures, revert: false,
                                                         message: "stopped during the bake after the \(stage.name), before the rollout finished")
                    events(.finished(outcome))
                    return run.report(outcome, stoppedEarly: true)
                }
                continue
            default:
                break
            }
            let (failed, after) = await Self.shielded { [self, before = run, plans = machine.plans] in
                var run = before
                let failed = await carryOut(action, plans: plans, cancelled: cancelled, into: &run)
                return (failed, run)
            }
            run = after
            machine.record(action.excluding(run.skipped), failed: failed)
        }
    }

    /// The report of a rollout a cancellation stopped at a safe point after `stage`: where it stopped, which hosts it
    /// switched and which it left as they were.
    private func interrupted(at stage: Stage?, machine: RolloutMachine, run: Run) -> ReconcileReport {
        let interruption = Self.interruption(at: stage, machine: machine, order: run.order)
        let outcome = RolloutMachine.Outcome(result: .progressing,
                                             failures: machine.failures.merging(machine.hostFaults) { first, _ in first },
                                             revert: false, message: "interrupted: \(interruption.summary)")
        events(.finished(outcome))
        var report = run.report(outcome, stoppedEarly: false)
        report.interruption = interruption
        for index in report.hosts.indices { report.hosts[index].interrupted = true }
        return report
    }

    /// Runs `body` on a task of its own, which a cancellation of the caller does not reach: a host's round trip
    /// (a process over SSH, which a cancellation would end) always finishes.
    private static func shielded<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        await Task { await body() }.value
    }

    /// Where an interrupted rollout stopped and which hosts it had switched, in the environment's order.
    private static func interruption(at stage: Stage?, machine: RolloutMachine, order: [String]) -> ReconcileReport.Interruption {
        let switched = Set(machine.switched + machine.switchedWarm)
        let pending = order.filter {
            !switched.contains($0) && machine.plans[$0]?.route != nil && machine.failures[$0] == nil && machine.hostFaults[$0] == nil
        }
        return ReconcileReport.Interruption(stage: stage, switched: order.filter(switched.contains), pending: pending)
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
    private func carryOut(_ action: RolloutMachine.Action, plans: [String: HostPlan], cancelled: CancellationFlag,
                          into run: inout Run) async -> [String: HostFailure] {
        let active = environment.active
        switch action {
        case let .prepare(hosts):
            return await runPhase(hosts, stage: .prepare, limit: policy.rollout.prepare, cancelled: cancelled, into: &run) { plans[$0]?.prepareSteps ?? [] }
        case let .route(hosts, stage):
            return await runPhase(hosts, stage: stage, limit: fanOut, cancelled: cancelled, into: &run) { host in
                plans[host]?.switchSteps ?? [.route(active), .check(active)]
            }
        case let .prepareIdle(hosts):
            return await runPhase(hosts, stage: .idle, limit: policy.rollout.prepare, cancelled: cancelled, into: &run) { plans[$0]?.idle ?? [] }
        case let .hook(kind, host):
            let step: HostPlan.Step = kind == .afterSwitch ? .afterSwitch(active) : .beforeSwitch(active)
            // A hook may run for as long as it says (a long migration), and the round trip a minute more.
            let timeout = max(stepTimeout, (environment.hooks[kind]?.timeout.duration ?? .zero) + .seconds(60))
            return await runPhase([host], stage: .hook(kind), limit: 1, timeout: timeout, cancelled: cancelled, into: &run) { _ in [step] }
        case let .rollBack(slots):
            return await runPhase(slots.keys.sorted(), stage: .rollBack, limit: fanOut, cancelled: cancelled, into: &run) { host in
                slots[host].map { [.route($0)] } ?? []
            }
        case .observe, .pause, .bake, .finish:
            return [:]
        }
    }

    /// Bakes the stage just switched: watches `hosts` (every host switched so far) and runs the analysis. Throws
    /// `CancellationError` when the task is cancelled (a newer commit) or the bake's sleep says stop (a shutdown).
    private func bake(_ hosts: [String], after stage: Stage, duration: ConfigDuration, into run: inout Run) async throws -> BakeWindow.Report {
        let environment = self.environment
        let commit = agents.first?.commit ?? ""
        func values(_ slot: Slot) -> QueryTemplate.Values {
            let version = ScrapeTargets.version(in: environment.slots[slot].pins.map(\.description), app: environment.app)
            return QueryTemplate.Values(environment: environment.name, slot: slot, hosts: hosts, commit: commit, version: version)
        }
        let events = self.events
        let byName = run.agents
        let timeout = observeTimeout
        let fanOut = self.fanOut
        let active = environment.active
        var window = BakeWindow(analysis: policy.analysis, bake: duration, release: values(active), stable: values(active.other),
                                source: metricSource)
        window.now = now
        window.sleep = bakeSleep
        window.healthInterval = bakeHealthInterval
        window.onMeasurement = { events(.analysis(.measured($0, stage: stage))) }
        window.onHeld = { metric, reason in events(.analysis(.held(metric: metric, reason: reason, stage: stage))) }
        // Only a failed check is an event: a quiet bake stays out of the log.
        window.checkHealth = {
            let results = await concurrentMap(hosts.compactMap { byName[$0] }, limit: fanOut) { agent in
                await agent.execute([.check(active)], timeout: timeout)
            }
            var failed: [String: HostFailure] = [:]
            for result in results where !result.ok {
                events(.phase(result, stage: .bake))
                failed[result.host] = result.error.map { $0.prefixed("during the bake after the \(stage.name): ") }
                    ?? HostFailure(.health, message: "failed its health check during the bake after the \(stage.name)")
            }
            return failed
        }
        do {
            let report = try await window.run()
            let measurements = report.measurements.map(StageAnalysis.Measurement.init)
            let analysis: StageAnalysis
            switch report.result {
            case .passed:
                analysis = StageAnalysis(stage: stage.name, verdict: .passed, measurements: measurements)
            case let .unhealthy(failed):
                analysis = StageAnalysis(stage: stage.name, verdict: .unhealthy,
                                         reason: failed.keys.sorted().map { "\($0): \(failed[$0]?.code.rawValue ?? "failed")" }.joined(separator: ", "),
                                         measurements: measurements)
            case let .failed(_, reason):
                analysis = StageAnalysis(stage: stage.name, verdict: .failed, reason: reason, measurements: measurements)
            }
            run.analyses.append(analysis)
            events(.analysis(.ended(analysis)))
            return report
        } catch {
            let analysis = StageAnalysis(stage: stage.name, verdict: .stopped, reason: "a newer commit or a shutdown ended the bake")
            run.analyses.append(analysis)
            events(.analysis(.ended(analysis)))
            throw error
        }
    }

    /// Runs the phase's round trips; once the rollout is interrupted, a host whose round trip has not started is
    /// left untouched (in `run.skipped`), and those under way finish.
    private func runPhase(_ hosts: [String], stage: Stage, limit: Int, timeout: Duration? = nil, cancelled: CancellationFlag,
                          into run: inout Run, steps: @escaping @Sendable (String) -> [HostPlan.Step]) async -> [String: HostFailure] {
        let agents = run.agents
        let timeout = timeout ?? stepTimeout
        let events = self.events
        let results: [PhaseResult?] = await concurrentMap(hosts, limit: limit) { host in
            guard let agent = agents[host], !cancelled.isSet else { return nil }
            let result = await agent.execute(steps(host), timeout: timeout)
            events(.phase(result, stage: stage))
            return result
        }
        var failed: [String: HostFailure] = [:]
        for (host, result) in zip(hosts, results) {
            guard let result else {
                if agents[host] != nil { run.skipped.insert(host) }
                continue
            }
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
    private struct Run: Sendable {
        let agents: [String: HostAgent]
        let order: [String]
        var reports: [String: HostReport] = [:]
        /// Hosts an interruption left out of the action under way (their round trip never started).
        var skipped: Set<String> = []
        /// Each bake's verdict and measurements, in order.
        var analyses: [StageAnalysis] = []
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
            var report = ReconcileReport(outcome: outcome, hosts: hosts, stoppedEarly: stoppedEarly,
                                         duration: ContinuousClock.now - started)
            report.analyses = analyses
            return report
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
    /// Where a cancellation (a newer commit preempting it, `apply`'s Ctrl-C) stopped it; nil when it was not.
    public var interruption: Interruption?

    /// Where an interrupted rollout stopped, at a safe point.
    public struct Interruption: Sendable, Hashable {
        /// The stage under way or last done (a pause, a batch); nil when it stopped before its first action.
        public var stage: Stage?
        /// The hosts it switched to their desired slot, in the environment's order.
        public var switched: [String]
        /// The hosts it still had to switch: left as they were.
        public var pending: [String]

        public init(stage: Stage?, switched: [String], pending: [String]) {
            self.stage = stage
            self.switched = switched
            self.pending = pending
        }

        /// `stopped at the pause stage with 1 host (web-01) switched and 4 hosts (web-02, …) not switched`.
        public var summary: String {
            func hosts(_ names: [String]) -> String {
                let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
                return "\(names.count) host\(names.count == 1 ? "" : "s")" + (names.isEmpty ? "" : " (\(shown))")
            }
            return "stopped at \(stage.map { "the \($0.name) stage" } ?? "the start") with \(hosts(switched)) switched and "
                + "\(hosts(pending)) not switched"
        }
    }
    /// Each bake's verdict and measurements (`bake:`, `analysis:`), in order.
    public var analyses: [StageAnalysis] = []

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

/// Set once when the task running a reconcile is cancelled; read by the shielded round trips that cannot see the
/// cancellation themselves.
final class CancellationFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
}

extension RolloutMachine.Action {
    /// The action as it was carried out when `hosts` were left out (an interruption): what the machine records.
    func excluding(_ hosts: Set<String>) -> RolloutMachine.Action {
        guard !hosts.isEmpty else { return self }
        switch self {
        case let .prepare(all): return .prepare(all.filter { !hosts.contains($0) })
        case let .route(all, stage): return .route(all.filter { !hosts.contains($0) }, stage: stage)
        case let .prepareIdle(all): return .prepareIdle(all.filter { !hosts.contains($0) })
        case let .rollBack(slots): return .rollBack(slots.filter { !hosts.contains($0.key) })
        case .observe, .pause, .bake, .hook, .finish: return self
        }
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
    /// A bake measured a metric, began to hold, or ended with a verdict.
    case analysis(AnalysisEvent)
    case finished(RolloutMachine.Outcome)
}
