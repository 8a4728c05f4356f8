/// The decisions of one rollout, as a plain value: the controller asks what to do next, does it, and reports
/// back. It never does I/O, so every decision — batches, pauses, when to halt, what to roll back — is tested
/// without processes.
///
/// A rollout runs in this order:
/// 1. prepare: every host that needs it makes its active slot ready (install, start, check). No traffic moves.
/// 2. switch: a canary, then batches of the policy's size with its pause between them, each host switched and
///    checked. A change that only switches to slots that are already warm (a rollback) switches every host at
///    once: nothing is installed, and getting traffic back fast is the point.
/// 3. idle: the idle slots are made ready for the next instant rollback.
/// Failed hosts are counted across the whole rollout; past `maxFailures` no further host is switched, and with
/// `onFailure: rollback` or `revert` the hosts already switched go back to the slot they served.
public struct RolloutMachine: Sendable {
    public enum Action: Sendable, Equatable {
        /// Run each host's plan steps that make its active slot ready.
        case prepare([String])
        /// Switch these hosts to the active slot and check them.
        case route([String], stage: String)
        case pause(ConfigDuration)
        /// Make these hosts' idle slots ready.
        case prepareIdle([String])
        /// Switch these hosts back to the slot each served before.
        case rollBack([String: Slot])
        case finish(Outcome)
    }

    public struct Outcome: Sendable, Equatable {
        public var result: EnvironmentStatus.Result
        /// Failed hosts and why.
        public var failures: [String: String]
        /// Whether the controller should commit a revert of the desired commit.
        public var revert: Bool
        public var message: String

        public init(result: EnvironmentStatus.Result, failures: [String: String], revert: Bool, message: String) {
            self.result = result
            self.failures = failures
            self.revert = revert
            self.message = message
        }
    }

    private enum Stage: Sendable, Equatable {
        case prepare
        case canary
        case batches(remaining: [String], index: Int, paused: Bool)
        case idle
        case rollBack
        case done
    }

    public let policy: Policy
    public let plans: [String: HostPlan]
    /// The hosts in the environment's order.
    private let order: [String]
    /// The slot each host's nginx routed to before the rollout.
    private let previous: [String: Slot]
    private var stage: Stage = .prepare
    private(set) public var failures: [String: String] = [:]
    private(set) public var idleFailures: [String: String] = [:]
    /// Hosts switched in this rollout.
    private(set) public var switched: [String] = []
    private var halted = false
    private var outcome: Outcome?

    /// - Parameters:
    ///   - plans: the plan of every reachable host.
    ///   - order: the hosts in the environment's order (canary first).
    ///   - previous: the slot each host routed to before the rollout.
    public init(policy: Policy, plans: [HostPlan], order: [String], previous: [String: Slot]) {
        self.policy = policy
        self.plans = Dictionary(uniqueKeysWithValues: plans.map { ($0.host, $0) })
        self.order = order.filter { name in plans.contains { $0.host == name } }
        self.previous = previous
    }

    private var tooManyFailures: Bool { failures.count > policy.rollout.maxFailures }

    /// What to do next.
    public mutating func next() -> Action {
        while true {
            switch stage {
            case .prepare:
                stage = .canary
                let hosts = order.filter { !(plans[$0]?.activate.isEmpty ?? true) }
                if !hosts.isEmpty { return .prepare(hosts) }
            case .canary:
                if tooManyFailures { return halt() }
                let candidates = switchCandidates()
                if candidates.isEmpty {
                    stage = .idle
                    continue
                }
                // Only switching back to warm slots: no canary, no batches.
                if candidates.allSatisfy({ plans[$0]?.activate.isEmpty ?? true }) {
                    stage = .batches(remaining: [], index: 0, paused: true)
                    return .route(candidates, stage: "all")
                }
                let canary = Array(candidates.prefix(policy.rollout.canary))
                stage = .batches(remaining: Array(candidates.dropFirst(canary.count)), index: 0, paused: canary.isEmpty)
                if !canary.isEmpty { return .route(canary, stage: "canary") }
            case let .batches(remaining, index, paused):
                if tooManyFailures { return halt() }
                if remaining.isEmpty {
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
                return .route(batch, stage: "batch \(index + 1)")
            case .idle:
                stage = .done
                let hosts = order.filter { failures[$0] == nil && !(plans[$0]?.idle.isEmpty ?? true) }
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
    public mutating func record(_ action: Action, failed: [String: String]) {
        switch action {
        case .prepare:
            failures.merge(failed) { first, _ in first }
        case let .route(hosts, _):
            failures.merge(failed) { first, _ in first }
            switched += hosts.filter { failed[$0] == nil }
        case .prepareIdle:
            idleFailures.merge(failed) { first, _ in first }
        case .rollBack:
            failures.merge(failed.mapValues { "rolling back failed: \($0)" }) { first, second in first + "; " + second }
        case .pause, .finish:
            break
        }
    }

    private func switchCandidates() -> [String] {
        order.filter { failures[$0] == nil && plans[$0]?.route != nil }
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
        if halted {
            let action: String
            switch policy.rollout.onFailure {
            case .halt: action = "no further host was switched"
            case .rollback: action = "hosts already switched went back"
            case .revert: action = "hosts already switched went back and the commit is reverted"
            }
            return Outcome(result: .halted, failures: failures, revert: policy.rollout.onFailure == .revert,
                           message: "halted: \(names.count) host\(names.count == 1 ? "" : "s") failed (\(names.joined(separator: ", "))), more than maxFailures \(policy.rollout.maxFailures); \(action)")
        }
        if failures.isEmpty && idleFailures.isEmpty {
            return Outcome(result: .converged, failures: [:], revert: false, message: "every host serves the desired slot")
        }
        let all = failures.merging(idleFailures.mapValues { "idle slot: \($0)" }) { first, _ in first }
        return Outcome(result: .degraded, failures: all, revert: false,
                       message: "\(all.count) host\(all.count == 1 ? "" : "s") failed (\(all.keys.sorted().joined(separator: ", "))), within maxFailures \(policy.rollout.maxFailures)")
    }

    private static func slot(of step: HostPlan.Step) -> Slot? {
        if case let .route(slot) = step { return slot }
        return nil
    }
}
