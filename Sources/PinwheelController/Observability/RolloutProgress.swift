import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// The rollout under way in one environment, as the status page and `/api/v1/environments` show it: what it is
/// doing now and how many hosts are done. Kept from the engine's ``ReconcileEvent``s, so it costs nothing between
/// rollouts and is forgotten when the rollout's status is committed.
///
/// A plain value: ``record(_:)`` is a pure function of the events, unit-tested without a fleet.
public struct RolloutProgress: Sendable, Hashable, Codable {
    /// The config commit being rolled out.
    public var commit: String
    /// When the rollout started, ISO 8601.
    public var started: String
    /// What the rollout does now: `observe`, `prepare`, `canary`, `batch 1`, …, `all`, `pause`, `idle`,
    /// `roll back`, and `finishing` once the engine has decided (the status is being recorded).
    public var stage: String
    /// Hosts in the environment.
    public var hosts: Int
    /// Hosts that serve the desired slot: those that already did when the rollout planned, and those switched since.
    public var done: Int
    /// Hosts the current stage runs on, and how many of them have finished their part of it.
    public var stageHosts: Int
    public var stageDone: Int
    /// Hosts that failed a step or could not be reached in this rollout, with the reason (the newest per host):
    /// one line for people, and the same as data (code, step, message) in `reasons`.
    public var failures: [String: String]
    public var reasons: [String: StatusReason] = [:]
    /// What each failed host printed about it (its output's last lines, bounded and escaped): the page shows it,
    /// git never records it.
    public var details: [String: String] = [:]

    /// What each host reported after its latest step in this rollout (not encoded on its own: the overview shows it
    /// in place of the last status's entry for the host).
    public var reported: [String: EnvironmentStatus.HostStatus] = [:]

    /// The hosts counted in `done`, by name (not encoded: the count is what the page shows).
    private var doneHosts: Set<String> = []

    private enum CodingKeys: String, CodingKey {
        case commit, started, stage, hosts, done, stageHosts, stageDone, failures, reasons, details
    }

    public init(commit: String, started: String, hosts: Int) {
        self.commit = commit
        self.started = started
        self.hosts = hosts
        stage = Stage.observe.name
        done = 0
        stageHosts = hosts
        stageDone = 0
        failures = [:]
    }

    /// Takes one event of the rollout into account.
    public mutating func record(_ event: ReconcileEvent) {
        switch event {
        case .observed:
            break
        case let .planned(plans, _):
            // Observing is over; a host with nothing to activate and nothing to switch already serves what it should.
            stageDone = stageHosts
            for plan in plans where plan.activate.isEmpty && plan.route == nil {
                doneHosts.insert(plan.host)
            }
        case let .unreachable(host, error):
            fail(host, error)
        case let .started(action):
            begin(action)
        case let .phase(result, stage):
            if stage.name == self.stage { stageDone = min(stageDone + 1, stageHosts) }
            if let observation = result.observation {
                reported[result.host] = EnvironmentStatus.HostStatus(observation: observation, failure: result.error)
            }
            if let error = result.error {
                fail(result.host, error)
            } else if stage.switchesHosts {
                doneHosts.insert(result.host)
                failures[result.host] = nil
                reasons[result.host] = nil
                details[result.host] = nil
            } else if stage == .rollBack {
                doneHosts.remove(result.host)
            }
        case .finished:
            stage = "finishing"
            stageHosts = 0
            stageDone = 0
        }
        done = doneHosts.count
    }

    private mutating func fail(_ host: String, _ failure: HostFailure) {
        failures[host] = failure.description
        reasons[host] = failure.reason
        details[host] = failure.detail
    }

    private mutating func begin(_ action: RolloutMachine.Action) {
        stage = action.stage?.name ?? "finishing"
        stageHosts = action.hosts.count
        stageDone = 0
    }
}
