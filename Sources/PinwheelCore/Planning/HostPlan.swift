/// What a reconcile must do on one host, in three phases that a rollout can schedule fleet-wide:
/// make the active slot ready, switch nginx to it, then make the idle slot ready.
///
/// Keeping the switch separate from the idle slot's install is what makes a rollback fast: every host
/// switches back to its warm slot before any host starts installing.
public struct HostPlan: Sendable, Hashable, Codable {
    public enum Step: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Build the slot's virtualenv with its pins and write its programs' supervisord config.
        case prepare(Slot)
        /// Start (or restart) the slot's programs.
        case start(Slot)
        /// Check the slot's health: web processes answer, workers are RUNNING.
        case check(Slot)
        /// Point nginx at the slot.
        case route(Slot)
        /// Fail at once unless the slot is prepared exactly as desired, has served traffic on the host before,
        /// and is running and healthy. The planner never emits it: the rollout puts it before the switch it offers
        /// every host while observing, so a rollback moves traffic in one round trip, while a slot that was only
        /// ever prepared (a release) refuses and is switched to at the policy's pace.
        case verify(Slot)
        /// Run the release's `beforeSwitch` hook from the slot (once per rollout, on one host).
        case beforeSwitch(Slot)
        /// Run the release's `afterSwitch` hook from the slot (once per rollout, on one host).
        case afterSwitch(Slot)

        public var description: String {
            switch self {
            case let .prepare(slot): return "prepare \(slot)"
            case let .start(slot): return "start \(slot)"
            case let .check(slot): return "check \(slot)"
            case let .route(slot): return "switch to \(slot)"
            case let .verify(slot): return "verify \(slot)"
            case let .beforeSwitch(slot): return "beforeSwitch hook in \(slot)"
            case let .afterSwitch(slot): return "afterSwitch hook in \(slot)"
            }
        }

        /// The step's name as the host agent knows it.
        public var action: String {
            switch self {
            case .prepare: return "prepare"
            case .start: return "start"
            case .check: return "check"
            case .route: return "route"
            case .verify: return "verify"
            case .beforeSwitch: return "beforeSwitch"
            case .afterSwitch: return "afterSwitch"
            }
        }

        public var slot: Slot {
            switch self {
            case let .prepare(slot), let .start(slot), let .check(slot), let .route(slot), let .verify(slot),
                 let .beforeSwitch(slot), let .afterSwitch(slot):
                return slot
            }
        }

        public init?(action: String, slot: Slot) {
            switch action {
            case "prepare": self = .prepare(slot)
            case "start": self = .start(slot)
            case "check": self = .check(slot)
            case "route": self = .route(slot)
            case "verify": self = .verify(slot)
            case "beforeSwitch": self = .beforeSwitch(slot)
            case "afterSwitch": self = .afterSwitch(slot)
            default: return nil
            }
        }

        private enum CodingKeys: String, CodingKey {
            case action
            case slot
        }

        /// `{"action": "prepare", "slot": "A"}`: the form the host agent reads and echoes back.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let action = try container.decode(String.self, forKey: .action)
            guard let step = Step(action: action, slot: try container.decode(Slot.self, forKey: .slot)) else {
                throw DecodingError.dataCorruptedError(forKey: .action, in: container, debugDescription: "unknown step \(action)")
            }
            self = step
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(action, forKey: .action)
            try container.encode(slot, forKey: .slot)
        }
    }

    public var host: String
    /// Steps that make the active slot ready to serve; they touch no traffic.
    public var activate: [Step]
    /// The switch, when nginx must be pointed (again) at the active slot.
    public var route: Step?
    /// Steps that make the idle slot ready for an instant rollback; they run after the switch.
    public var idle: [Step]
    /// Whether `activate` rebuilds the slot nginx routes to now (a program setting changed, or the active slot's
    /// pins were edited in place): its processes restart while it serves, so the rollout does it host by host at
    /// the policy's pace, as part of each host's switch, instead of on every host at once while preparing. Never
    /// with a `beforeSwitch` hook, which runs from the new build before any host switches.
    public var rebuildsServingSlot: Bool

    public init(host: String, activate: [Step] = [], route: Step? = nil, idle: [Step] = [], rebuildsServingSlot: Bool = false) {
        self.host = host
        self.activate = activate
        self.route = route
        self.idle = idle
        self.rebuildsServingSlot = rebuildsServingSlot
    }

    /// What the prepare stage runs on the host: `activate`, unless it restarts what serves.
    public var prepareSteps: [Step] { rebuildsServingSlot ? [] : activate }

    /// What the host's switch runs (canary or batch): the switch and its check, after `activate` when that restarts
    /// what serves.
    public var switchSteps: [Step] {
        guard let route else { return [] }
        return (rebuildsServingSlot ? activate : []) + [route, .check(route.slot)]
    }

    /// Every step, in the order they run on a host carried out alone.
    public var steps: [Step] { activate + (route.map { [$0] } ?? []) + idle }

    /// Nothing to do: the host matches.
    public var isEmpty: Bool { steps.isEmpty }

    /// Whether anything is installed (the slow part).
    public var installs: Bool { steps.contains { if case .prepare = $0 { return true } else { return false } } }
}
