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
    /// The newer commit that preempted this rollout (its task cancelled), once one has.
    let supersession = RunningRollout.Supersession()
    /// The hosts it leaves alone when it reconciles only the hosts behind (a drift check under `drift: report`): its
    /// status keeps their last entries and reports their drift. Nil: it reconciles every host the agents reach.
    var kept: DriftTriage.Kept?

    /// Rolls out, records how it ended, and returns the status published.
    @discardableResult
    func run() async -> EnvironmentStatus {
        let log = logger.with(["env": "\(desired.name)", "commit": "\(commit.short)"])
        let report = await reconciler(log: log).reconcile()
        // Recording how it ended (a status commit, pushed) is never cut short by the cancellation that preempted it.
        return await Task { [self] in await finish(report, log: log) }.value
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
        // A pause between batches ends early when a shutdown begins (SIGTERM starts no new step, so there is
        // nothing to wait for) or a newer commit preempts the rollout (its task is cancelled).
        reconciler.sleep = { duration in
            let deadline = ContinuousClock.now + duration
            while ContinuousClock.now < deadline {
                if Task.isCancelled { return }
                if await isStopping() { return }
                try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
            }
        }
        reconciler.metricSource = notifications.configuration.metricSource
        // A bake ends at once when the task is cancelled (a newer commit) or a shutdown begins.
        reconciler.bakeSleep = { duration in
            let deadline = ContinuousClock.now + duration
            while ContinuousClock.now < deadline {
                if await isStopping() { throw CancellationError() }
                try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
            }
        }
        return reconciler
    }

    /// Records how a reconcile ended: a revert when the policy asks for one, and the status.
    private func finish(_ report: ReconcileReport, log: Logger) async -> EnvironmentStatus {
        if let interruption = report.interruption, let newer = supersession.by {
            return await finishSuperseded(report, interruption: interruption, by: newer, log: log)
        }
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
        if !report.analyses.isEmpty { status.analysis = report.analyses }
        // A failed analysis is the stage's, not one host's: it is the status's reason unless a host's failure is.
        if let reason = outcome.reason, reason.code == "analysis" { status.cause = reason }
        if let kept { status = DriftTriage.keeping(kept, in: status, commit: commit.short) }
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

    /// Records a rollout a newer commit stopped: `superseded`, with what it had done, never reverted or quarantined
    /// (it did not fail; the newer commit decides what every host gets next).
    private func finishSuperseded(_ report: ReconcileReport, interruption: ReconcileReport.Interruption, by newer: ObjectID,
                                  log: Logger) async -> EnvironmentStatus {
        let message = "superseded by \(newer.short): \(interruption.summary); the newer commit reconciles now"
        log.warning("superseded", metadata: ["by": "\(newer.short)", "stage": "\(interruption.stage?.name ?? "start")",
                                             "switched": "\(interruption.switched.joined(separator: ","))",
                                             "seconds": "\(Controller.seconds(report.duration))"])
        metrics.reconciled(environment: desired.name, duration: report.duration, outcome: .superseded, reverted: false, stopped: false)
        var errors = report.unreachable
        errors.merge(report.outcome.failures) { first, _ in first }
        var status = EnvironmentStatus(environment: desired, commit: commit.hex, result: .superseded, message: message,
                                       time: Controller.now(), observations: report.observations, errors: errors)
        status.applied = commit.hex
        status.superseded = .init(by: newer.hex, stage: interruption.stage?.name, switched: interruption.switched,
                                  untouched: interruption.pending)
        if let kept { status = DriftTriage.keeping(kept, in: status, commit: commit.short) }
        await publisher.publish(status, repository: repository)
        progress.end(desired.name)
        notifications.notify(.superseded, status: status, environment: desired, repository: repository, report: report)
        return status
    }
}
