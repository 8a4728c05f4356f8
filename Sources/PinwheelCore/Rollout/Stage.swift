/// A stage of a rollout, named once for every place that shows it: the controller's log, `apply`'s progress line,
/// `apply --json`'s events, `apply --timings`, the status page and the API.
public enum Stage: Sendable, Hashable, CustomStringConvertible {
    /// Every host is observed (and, for a rollback, switched to its warm slot in the same round trip).
    case observe
    /// A host switched to its warm slot while it was observed.
    case warmSwitch
    /// The active slot is made ready on the hosts that need it.
    case prepare
    /// The first hosts switch.
    case canary
    /// The n-th batch after the canary switches (from 1).
    case batch(Int)
    /// Every host switches at once: a rollback to warm slots.
    case all
    /// The policy's pause between batches.
    case pause
    /// The policy's bake after the canary or a batch: the switched hosts' health is checked again and the metric
    /// analysis runs.
    case bake
    /// The idle slots are made ready for the next rollback.
    case idle
    /// Hosts already switched go back to the slot they served.
    case rollBack
    /// A release hook runs on one host.
    case hook(ReleaseHooks.Kind)

    /// The stage's name: `observe`, `warm switch`, `prepare`, `canary`, `batch 1`, `all`, `pause`, `idle`,
    /// `roll back`, `beforeSwitch hook`.
    public var name: String {
        switch self {
        case .observe: "observe"
        case .warmSwitch: "warm switch"
        case .prepare: "prepare"
        case .canary: "canary"
        case let .batch(index): "batch \(index)"
        case .all: "all"
        case .pause: "pause"
        case .bake: "bake"
        case .idle: "idle"
        case .rollBack: "roll back"
        case let .hook(kind): "\(kind.rawValue) hook"
        }
    }

    public var description: String { name }

    /// Whether hosts switch to the desired slot in this stage: one that finishes it without an error serves it.
    public var switchesHosts: Bool {
        switch self {
        case .warmSwitch, .canary, .batch, .all: true
        default: false
        }
    }

    /// Whether its hosts run steps (and report a phase each); observing and pausing do not.
    public var runsHostSteps: Bool {
        switch self {
        case .observe, .pause, .bake: false
        default: true
        }
    }
}

extension RolloutMachine.Action {
    /// The stage this action is; nil for `finish`.
    public var stage: Stage? {
        switch self {
        case .observe: .observe
        case .prepare: .prepare
        case let .route(_, stage): stage
        case .pause: .pause
        case .bake: .bake
        case .prepareIdle: .idle
        case .rollBack: .rollBack
        case let .hook(kind, _): .hook(kind)
        case .finish: nil
        }
    }

    /// The hosts the action runs on, in order (none for a pause or a finish).
    public var hosts: [String] {
        switch self {
        case let .observe(hosts, _), let .prepare(hosts), let .route(hosts, _), let .prepareIdle(hosts): hosts
        case let .rollBack(slots): slots.keys.sorted()
        case let .bake(hosts, _, _): hosts
        case let .hook(_, host): [host]
        case .pause, .finish: []
        }
    }
}
