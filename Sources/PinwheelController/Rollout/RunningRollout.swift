import PinwheelCore
import PinwheelGit
import Synchronization

/// A rollout under way for one environment, and what a newer commit needs to stop it: its task (cancelled at the
/// rollout's next safe point, see ``EnvironmentReconciler/reconcile()``) and the commit that superseded it, which
/// its status names.
struct RunningRollout: Sendable {
    let commit: ObjectID
    let environment: Environment
    let task: Task<Void, Never>
    let supersession: Supersession

    /// The newer commit that stopped a rollout, set before its task is cancelled and read when it records its status.
    final class Supersession: Sendable {
        private let commit = Mutex<ObjectID?>(nil)

        init() {}

        var by: ObjectID? { commit.withLock { $0 } }

        func set(_ newer: ObjectID) {
            commit.withLock { $0 = $0 ?? newer }
        }
    }

    /// Stops the rollout at its next safe point for `newer`, and waits until it has recorded its status.
    func supersede(by newer: ObjectID) async {
        supersession.set(newer)
        task.cancel()
        await task.value
    }
}
