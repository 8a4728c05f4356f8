import PinwheelFleet
import PinwheelEngine
import Synchronization

/// The rollouts under way, by environment: written from the engine's event callbacks (any task), read by the
/// status page and the API. One small record per environment that is rolling out; none otherwise.
public final class ProgressBoard: Sendable {
    private let rollouts = Mutex<[String: RolloutProgress]>([:])

    public init() {}

    /// Records `event` of the rollout of `commit` in `environment`, starting its record on the first event.
    public func record(_ event: ReconcileEvent, environment: String, commit: String, hosts: Int, now: @autoclosure () -> String) {
        rollouts.withLock { rollouts in
            if rollouts[environment]?.commit != commit {
                rollouts[environment] = RolloutProgress(commit: commit, started: now(), hosts: hosts)
            }
            rollouts[environment]?.record(event)
        }
    }

    /// The rollout of `environment` is over and its status recorded.
    public func end(_ environment: String) {
        _ = rollouts.withLock { $0.removeValue(forKey: environment) }
    }

    /// Every rollout under way, by environment.
    public func snapshot() -> [String: RolloutProgress] {
        rollouts.withLock { $0 }
    }
}
