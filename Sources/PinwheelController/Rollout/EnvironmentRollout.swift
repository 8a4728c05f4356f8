import Foundation
import Logging
import PinwheelCore
import PinwheelFleet
import PinwheelEngine
import PinwheelGit
import PinwheelReleases

/// One environment's reconcile as the controller runs it, on a task of its own: the engine
/// (``EnvironmentReconciler``, whose ``RolloutMachine`` decides each next step) over the agents the controller's
/// ``HostAgentFactory`` made, then what the end calls for — the revert the policy asks for, the status (a halted
/// commit quarantined), the notification.
struct EnvironmentRollout: Sendable {
    let desired: Environment
    let commit: ObjectID
    let agents: [HostAgent]
    let repository: WatchedRepository
    let publisher: StatusPublisher
    let notifications: RolloutNotifications
    let metrics: ControllerMetrics
    let progress: ProgressBoard
    let logger: Logger
    /// Whether a shutdown began: no new step starts, a pause between batches ends early.
    let isStopping: @Sendable () async -> Bool

    /// Rolls out, records how it ended, and returns the status published.
    @discardableResult
    func run() async -> EnvironmentStatus {
        let log = logger.with(["env": "\(desired.name)", "commit": "\(commit.short)"])
        let report = await reconciler(log: log).reconcile()
        return await finish(report, log: log)
    }

    private func reconciler(log: Logger) -> EnvironmentReconciler {
        let metrics = self.metrics
        let progress = self.progress
        let hostCount = desired.targets.count
        let (desired, commit) = (self.desired, self.commit)
        let announcer = notifications.rolloutAnnouncer(desired, commit: commit, repository: repository)
        var reconciler = EnvironmentReconciler(environment: desired, agents: agents) { event in
            ReconcileLog.log(event, to: log)
            metrics.record(event, environment: desired.name)
            progress.record(event, environment: desired.name, commit: commit.hex, hosts: hostCount, now: Controller.now())
            announcer?.observe(event)
        }
        let isStopping = self.isStopping
        reconciler.shouldStop = isStopping
        // A pause between batches ends early when a shutdown begins: SIGTERM starts no new step, so there is
        // nothing to wait for.
        reconciler.sleep = { duration in
            let deadline = ContinuousClock.now + duration
            while ContinuousClock.now < deadline {
                if await isStopping() { return }
                try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
            }
        }
        return reconciler
    }

    /// Records how a reconcile ended: a revert when the policy asks for one, and the status.
    private func finish(_ report: ReconcileReport, log: Logger) async -> EnvironmentStatus {
        let outcome = report.outcome
        log.info("reconciled", metadata: ["result": "\(outcome.result.rawValue)", "seconds": "\(Controller.seconds(report.duration))",
                                          "message": "\(outcome.message)"])
        var revert: ObjectID?
        if outcome.revert, !report.stoppedEarly {
            if desired.policy.verify.requiresSignatures {
                // The controller cannot sign; an unsigned revert would make the range refuse every later commit.
                log.warning("not reverting: signatures are required and the controller does not sign; push a signed revert")
            } else {
                let halt = RevertMessage.Halt(environment: desired.name, reason: outcome.message, failures: outcome.failures)
                revert = await publisher.revert(desired.name, appliedAt: commit, halt: halt, repository: repository, log: log)
            }
        }
        metrics.reconciled(environment: desired.name, duration: report.duration, outcome: outcome.result,
                           reverted: revert != nil, stopped: report.stoppedEarly)
        var errors = report.unreachable
        errors.merge(outcome.failures) { first, _ in first }
        var status = EnvironmentStatus(environment: desired, commit: commit.hex, result: outcome.result, message: outcome.message,
                                       time: Controller.now(), observations: report.observations, errors: errors,
                                       revert: revert?.hex)
        status.applied = commit.hex
        if outcome.result == .halted, !report.stoppedEarly {
            // Never retried by the controller by itself, also after a restart: a new commit is a new decision.
            status.quarantined = [commit.hex]
            log.warning("quarantined: the controller will not retry this commit")
        }
        await publisher.publish(status, repository: repository)
        progress.end(desired.name)
        notifications.notifyFinished(desired, status: status, report: report, repository: repository)
        return status
    }
}
