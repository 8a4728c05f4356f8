/// The decisions of one rollout, as a plain value: the controller asks what to do next, does it, and reports
/// back. It never does I/O, so every decision — batches, pauses, when to halt, what to roll back — is tested
/// without processes.
///
/// A rollout runs in this order:
/// 0. observe: every host in one round trip each. A host whose desired active slot is already built as desired,
///    has served traffic there before, and is running and healthy (a rollback: the previous slot is still warm)
///    verifies it and switches to it in that same round trip, so traffic is back after one round trip; every other host only reports what it has, and the
///    machine plans each host from that (`Planner`).
/// 1. prepare: every host that needs it makes its active slot ready (install, start, check). No traffic moves.
///    A host whose active slot is rebuilt while it serves (a settings change) is not: its processes restart, so it
///    does that as part of its switch, below, at the policy's pace (unless a `beforeSwitch` hook has to run from
///    the new build first: then every host is prepared first, as for a release).
/// 2. switch: a canary, then batches of the policy's size with its pause between them, each host switched and
///    checked. A change that only switches to slots that are already warm (a rollback) switches every host at
///    once: nothing is installed, and getting traffic back fast is the point.
/// 3. idle: the idle slots are made ready for the next instant rollback.
/// With release hooks, `beforeSwitch` runs once on the first host to switch, after every host prepared and before
/// any traffic moves (a failure halts right there), and `afterSwitch` once after the last batch. A rollback that
/// only switches back to warm slots runs neither, unless the hook says `onRollback: true`.
/// Failed hosts are counted across the whole rollout; past `maxFailures` no further host is switched, and with
/// `onFailure: rollback` or `revert` the hosts already switched go back to the slot they served. Only evidence
/// against the release counts (``FailureCode/blame``): a host's own fault (unreachable, lost mid-step, its nginx
/// broken outside Pinwheel's file) takes that host out of the rollout, reported, and the others go on.
/// With `bake:` or `analysis:` in the policy, the canary and every batch are followed by a bake: the hosts switched
/// so far are checked again and the metrics are measured (``BakeWindow``). A host failing its health check there
/// counts as a failed switch; a failed analysis fails the stage and halts at once, whatever `maxFailures` says (it
/// is evidence against the release on every host it reached), and `onFailure` applies.
public struct RolloutMachine: Sendable {
    public enum Action: Sendable, Equatable {
        /// Observe these hosts; with a slot, each host first verifies that slot and switches to it when it is warm
        /// (a verify that fails only means the host is not warm, and it is observed as it is).
        case observe([String], switchingTo: Slot?)
        /// Run each host's plan steps that make its active slot ready.
        case prepare([String])
        /// Switch these hosts to the active slot and check them.
        case route([String], stage: Stage)
        case pause(ConfigDuration)
        /// Watch the hosts switched so far for `duration` after the stage `after` (the canary, a batch): their
        /// health, and the policy's analysis. Reported with ``RolloutMachine/record(_:failed:)`` (hosts that failed
        /// their health check) and ``RolloutMachine/recordAnalysisFailure(_:)``.
        case bake([String], after: Stage, duration: ConfigDuration)
        /// Make these hosts' idle slots ready.
        case prepareIdle([String])
        /// Switch these hosts back to the slot each served before.
        case rollBack([String: Slot])
        /// Run a release hook (`beforeSwitch`, `afterSwitch`) once, on this host.
        case hook(ReleaseHooks.Kind, host: String)
        case finish(Outcome)
    }

    public struct Outcome: Sendable, Equatable {
        public var result: EnvironmentStatus.Result
        /// Failed hosts and why.
        public var failures: [String: HostFailure]
        /// Whether the controller should commit a revert of the desired commit.
        public var revert: Bool
        public var message: String
        /// Why the metric analysis failed a stage, when it did (the rollout halted on it).
        public var analysisFailure: String?

        public init(result: EnvironmentStatus.Result, failures: [String: HostFailure], revert: Bool, message: String,
                    analysisFailure: String? = nil) {
            self.result = result
            self.failures = failures
            self.revert = revert
            self.message = message
            self.analysisFailure = analysisFailure
        }

        /// Why the environment ended as it did, for its status: the first failed host's failure (in host order),
        /// evidence against the release before a host's own fault; nil when no host failed.
        public var reason: StatusReason? {
            let hosts = failures.keys.sorted()
            if let analysisFailure, !hosts.contains(where: { failures[$0]?.code.blame == .release }) {
                return StatusReason(code: "analysis", step: Stage.bake.name, message: analysisFailure)
            }
            guard let host = hosts.first(where: { failures[$0]?.code.blame == .release }) ?? hosts.first,
                  let failure = failures[host] else { return nil }
            return StatusReason(code: failure.code.rawValue, step: failure.step, message: "\(host): \(failure.message)")
        }
    }

    private enum Position: Sendable, Equatable {
        case observe
        case prepare
        case canary
        case batches(remaining: [String], index: Int, paused: Bool)
        case idle
        case rollBack
        case done
    }

    public let policy: Policy
    private(set) public var plans: [String: HostPlan]
    /// The hosts in the environment's order.
    private var order: [String]
    /// The slot each host's nginx routed to before the rollout.
    private var previous: [String: Slot]
    /// What is planned from when the machine observes the hosts itself.
    private let targets: [HostTarget]
    private var stage: Position
    /// Hosts that could not be observed, and why: not part of the rollout, and not counted as failures.
    private(set) public var unreachable: [String: HostFailure] = [:]
    /// Hosts switched to their warm slot while being observed.
    private(set) public var switchedWarm: [String] = []
    /// Hosts whose desired active slot is built but never served traffic there: switching to it exposes a new
    /// build, so it goes at the policy's pace even when nothing needs installing (a rollout resumed after a restart,
    /// or a release whose idle slot was prepared by an earlier commit).
    private var firstExposure: Set<String> = []
    private(set) public var failures: [String: HostFailure] = [:]
    /// Hosts taken out of the rollout by a fault of their own: not counted against `maxFailures`.
    private(set) public var hostFaults: [String: HostFailure] = [:]
    private(set) public var idleFailures: [String: HostFailure] = [:]
    /// Hosts switched in this rollout.
    private(set) public var switched: [String] = []
    private var halted = false
    private var outcome: Outcome?
    /// The release's hooks; the machine decides when `beforeSwitch` and `afterSwitch` run.
    private var hooks = ReleaseHooks()
    private var hooksRun: Set<ReleaseHooks.Kind> = []
    /// Whether this rollout only switches back to warm slots.
    private var isRollback = false
    /// The stage the next action bakes, set when the canary or a batch switched hosts and the policy bakes.
    private var pendingBake: Stage?
    /// Why the analysis failed a stage: the rollout halts.
    private(set) public var analysisFailure: String?
    /// Whether the canary and each batch are followed by a bake (`bake:` or `analysis:` in the policy).
    private var bakes: Bool { policy.bake.milliseconds > 0 || !(policy.analysis?.metrics.isEmpty ?? true) }
    /// Why `beforeSwitch` failed (the rollout halts before any switch), or `afterSwitch` did.
    private(set) public var hookFailures: [ReleaseHooks.Kind: String] = [:]

    /// - Parameters:
    ///   - plans: the plan of every reachable host.
    ///   - order: the hosts in the environment's order (canary first).
    ///   - previous: the slot each host routed to before the rollout.
    public init(policy: Policy, plans: [HostPlan], order: [String], previous: [String: Slot], hooks: ReleaseHooks = ReleaseHooks()) {
        self.policy = policy
        self.hooks = hooks
        self.plans = Dictionary(uniqueKeysWithValues: plans.map { ($0.host, $0) })
        self.order = order.filter { name in plans.contains { $0.host == name } }
        self.previous = previous
        targets = []
        stage = .prepare
    }

    /// A whole reconcile of `targets`, starting with observing them. `switchingWarm` lets a host whose desired
    /// active slot is warm switch in the observing round trip (what a rollback needs); without it, observing
    /// changes nothing.
    /// `hooks`: with a `beforeSwitch` hook that runs on rollbacks too, observing never switches (the hook goes first).
    public init(policy: Policy, targets: [HostTarget], switchingWarm: Bool = true, hooks: ReleaseHooks = ReleaseHooks()) {
        self.policy = policy
        self.targets = targets
        plans = [:]
        order = targets.map(\.name)
        previous = [:]
        stage = .observe
        self.switchingWarm = switchingWarm && !(hooks.beforeSwitch?.onRollback ?? false)
        self.hooks = hooks
    }

    private var switchingWarm = false

    /// What observing found on each host: its observation (after the warm switch, when it made one) and the slot it
    /// routed to before, or why it could not be observed.
    public struct Observed: Sendable, Equatable {
        public var observation: HostObservation?
        /// The slot nginx routed to before this round trip.
        public var routedBefore: Slot?
        /// Whether the host switched to its warm slot in this round trip.
        public var switched: Bool
        /// Why the host could not be observed, or why its warm switch failed.
        public var error: HostFailure?

        public init(observation: HostObservation?, routedBefore: Slot? = nil, switched: Bool = false, error: HostFailure? = nil) {
            self.observation = observation
            self.routedBefore = routedBefore
            self.switched = switched
            self.error = error
        }
    }

    /// Reports what `.observe` found; the machine plans every observed host from it.
    public mutating func recordObserved(_ observed: [String: Observed]) {
        var plans: [HostPlan] = []
        for target in targets {
            guard let found = observed[target.name] else { continue }
            guard let observation = found.observation else {
                unreachable[target.name] = found.error ?? HostFailure(.unreachable, message: "not observed")
                continue
            }
            if found.switched { switchedWarm.append(target.name) }
            if let error = found.error { failures[target.name] = error }
            if let routed = found.routedBefore { previous[target.name] = routed }
            if observation.slots[target.active].manifest?.servedAt == nil { firstExposure.insert(target.name) }
            plans.append(Planner.plan(target, observed: observation))
        }
        self.plans = Dictionary(uniqueKeysWithValues: plans.map { ($0.host, $0) })
        order = targets.map(\.name).filter { self.plans[$0] != nil }
    }

    private var tooManyFailures: Bool { failures.count > policy.rollout.maxFailures || analysisFailure != nil }

    /// What to do next.
    public mutating func next() -> Action {
        while true {
            switch stage {
            case .observe:
                stage = .prepare
                return .observe(order, switchingTo: switchingWarm ? targets.first?.active : nil)
            case .prepare:
                stage = .canary
                let hosts = order.filter { !(plans[$0]?.prepareSteps.isEmpty ?? true) }
                if !hosts.isEmpty { return .prepare(hosts) }
            case .canary:
                if hookFailures[.beforeSwitch] != nil || tooManyFailures { return halt() }
                let candidates = switchCandidates()
                if candidates.isEmpty {
                    stage = .idle
                    continue
                }
                isRollback = candidates.allSatisfy { (plans[$0]?.activate.isEmpty ?? true) && !firstExposure.contains($0) }
                if let hook = nextHook(.beforeSwitch, on: candidates[0]) { return hook }
                // Only switching back to warm slots that served before (a rollback): no canary, no batches.
                if isRollback {
                    stage = .batches(remaining: [], index: 0, paused: true)
                    return .route(candidates, stage: .all)
                }
                let canary = Array(candidates.prefix(policy.rollout.canary))
                stage = .batches(remaining: Array(candidates.dropFirst(canary.count)), index: 0, paused: canary.isEmpty)
                if !canary.isEmpty { return .route(canary, stage: .canary) }
            case let .batches(remaining, index, paused):
                if tooManyFailures { return halt() }
                if let stage = pendingBake {
                    pendingBake = nil
                    return .bake(switched, after: stage, duration: policy.bake)
                }
                if remaining.isEmpty {
                    if let first = switched.first, let hook = nextHook(.afterSwitch, on: first) { return hook }
                    stage = .idle
                    continue
                }
                if !paused && policy.rollout.pause.milliseconds > 0 {
                    stage = .batches(remaining: remaining, index: index, paused: true)
                    return .pause(policy.rollout.pause)
                }
                let size = policy.rollout.batch.hosts(of: order.count)
                let batch = Array(remaining.prefix(size))
                stage = .batches(remaining: Array(remaining.dropFirst(batch.count)), index: index + 1, paused: false)
                return .route(batch, stage: .batch(index + 1))
            case .idle:
                stage = .done
                let hosts = order.filter { failures[$0] == nil && hostFaults[$0] == nil && !(plans[$0]?.idle.isEmpty ?? true) }
                if !hosts.isEmpty { return .prepareIdle(hosts) }
            case .rollBack:
                stage = .done
                return .finish(finalOutcome())
            case .done:
                return .finish(finalOutcome())
            }
        }
    }

    /// Reports how an action went: the hosts that failed and why. Successful hosts are the others.
    public mutating func record(_ action: Action, failed: [String: HostFailure]) {
        switch action {
        case .prepare:
            count(failed)
        case let .route(hosts, stage):
            count(failed)
            let done = hosts.filter { failed[$0] == nil }
            switched += done
            switch stage {
            case .canary, .batch:
                if bakes, !isRollback, !done.isEmpty { pendingBake = stage }
            default:
                break
            }
        case .bake:
            count(failed)
        case .prepareIdle:
            idleFailures.merge(failed) { first, _ in first }
        case .rollBack:
            // The host's first failure stays its code; that going back failed too is said in its message.
            for (host, failure) in failed {
                if var first = failures[host] {
                    first.message += "; rolling back failed: \(failure.step.map { "\($0): " } ?? "")\(failure.code)"
                    failures[host] = first
                } else {
                    failures[host] = failure.prefixed("rolling back failed: ")
                }
            }
        case let .hook(kind, host):
            if let error = failed[host] {
                hookFailures[kind] = "the \(kind.rawValue) hook failed on \(host): \(error.code) — \(error.message)"
                // A failed beforeSwitch is the host's failure (nothing switches); after the switch, the hosts serve.
                if kind == .beforeSwitch { failures[host] = failures[host] ?? error }
            }
        case .pause, .finish, .observe:
            break
        }
    }

    /// Reports that the analysis of the stage being baked failed, and why: no further host switches, `onFailure`
    /// applies.
    public mutating func recordAnalysisFailure(_ reason: String) {
        analysisFailure = analysisFailure ?? reason
    }

    /// Files failures of the release's steps: evidence against the release counts, a host's own fault takes it out.
    private mutating func count(_ failed: [String: HostFailure]) {
        for (host, failure) in failed where failures[host] == nil && hostFaults[host] == nil {
            switch failure.code.blame {
            case .release: failures[host] = failure
            case .host: hostFaults[host] = failure
            }
        }
    }

    /// The hook of `kind` on `host`, when the release has one that has not run yet and applies to this rollout.
    private mutating func nextHook(_ kind: ReleaseHooks.Kind, on host: String) -> Action? {
        guard let hook = hooks[kind], !hooksRun.contains(kind), !isRollback || hook.onRollback else { return nil }
        hooksRun.insert(kind)
        return .hook(kind, host: host)
    }

    private func switchCandidates() -> [String] {
        order.filter { failures[$0] == nil && hostFaults[$0] == nil && plans[$0]?.route != nil }
    }

    private mutating func halt() -> Action {
        halted = true
        stage = .rollBack
        guard policy.rollout.onFailure != .halt else {
            stage = .done
            return .finish(finalOutcome())
        }
        var back: [String: Slot] = [:]
        for host in switched {
            if let slot = previous[host], slot != plans[host]?.route.flatMap(Self.slot(of:)) {
                back[host] = slot
            }
        }
        if back.isEmpty {
            stage = .done
            return .finish(finalOutcome())
        }
        return .rollBack(back)
    }

    private func finalOutcome() -> Outcome {
        let names = failures.keys.sorted()
        if halted, let failure = hookFailures[.beforeSwitch] {
            return Outcome(result: .halted, failures: failures, revert: policy.rollout.onFailure == .revert,
                           message: "halted before any host switched: \(failure)")
        }
        if halted, let analysisFailure {
            let action: String
            switch policy.rollout.onFailure {
            case .halt: action = "no further host was switched"
            case .rollback: action = "hosts already switched went back"
            case .revert: action = "hosts already switched went back and the commit is reverted"
            }
            return Outcome(result: .halted, failures: failures.merging(hostFaults) { first, _ in first },
                           revert: policy.rollout.onFailure == .revert,
                           message: "halted: the analysis failed: \(analysisFailure); \(action)", analysisFailure: analysisFailure)
        }
        if halted {
            let action: String
            switch policy.rollout.onFailure {
            case .halt: action = "no further host was switched"
            case .rollback: action = "hosts already switched went back"
            case .revert: action = "hosts already switched went back and the commit is reverted"
            }
            return Outcome(result: .halted, failures: failures.merging(hostFaults) { first, _ in first },
                           revert: policy.rollout.onFailure == .revert,
                           message: "halted: \(names.count) host\(names.count == 1 ? "" : "s") failed (\(names.joined(separator: ", "))), more than maxFailures \(policy.rollout.maxFailures); \(action)")
        }
        let all = failures.merging(idleFailures.mapValues { $0.prefixed("idle slot: ") }) { first, _ in first }
            .merging(hostFaults) { first, _ in first }
        if let failure = hookFailures[.afterSwitch] {
            return Outcome(result: .degraded, failures: all, revert: false, message: "every host switched, but \(failure)")
        }
        if failures.isEmpty && idleFailures.isEmpty && hostFaults.isEmpty && unreachable.isEmpty {
            return Outcome(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")
        }
        if failures.isEmpty && idleFailures.isEmpty && hostFaults.isEmpty {
            let names = unreachable.keys.sorted()
            return Outcome(result: .degraded, failures: [:], revert: false,
                           message: "\(names.count) host\(names.count == 1 ? "" : "s") unreachable (\(names.joined(separator: ", "))); the others serve the desired slot")
        }
        if failures.isEmpty && idleFailures.isEmpty {
            let names = hostFaults.keys.sorted()
            return Outcome(result: .degraded, failures: all, revert: false,
                           message: "\(names.count) host\(names.count == 1 ? "" : "s") skipped for a fault of \(names.count == 1 ? "its" : "their") own (\(names.joined(separator: ", "))), not the release's; the others serve the desired slot, and \(names.count == 1 ? "it gets" : "they get") the release when \(names.count == 1 ? "it is" : "they are") back")
        }
        let counted = failures.merging(idleFailures) { first, _ in first }
        let skipped = hostFaults.isEmpty ? "" : "; \(hostFaults.count) skipped for a fault of their own (\(hostFaults.keys.sorted().joined(separator: ", ")))"
        return Outcome(result: .degraded, failures: all, revert: false,
                       message: "\(counted.count) host\(counted.count == 1 ? "" : "s") failed (\(counted.keys.sorted().joined(separator: ", "))), within maxFailures \(policy.rollout.maxFailures)\(skipped)")
    }

    private static func slot(of step: HostPlan.Step) -> Slot? {
        if case let .route(slot) = step { return slot }
        return nil
    }
}
