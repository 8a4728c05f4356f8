import Logging
import PinwheelCore
import PinwheelGit

/// One environment's part of a poll that found the branch moved: decides what the environment does with the tip —
/// nothing (its desired state did not change), record it as invalid, hold it back as admission says, or reconcile
/// it now — and whether the tip stops a rollout of the environment that is under way (``preempts(_:name:at:loader:applied:repository:)``).
/// The controller's loop keeps the scheduling: which environments it looks at, and the task each reconcile runs on.
/// Its methods run on the controller's actor (`nonisolated(nonsending)`), where the commit's loader lives.
struct EnvironmentPoll: Sendable {
    let admission: AdmissionGate
    let publisher: StatusPublisher
    let notifications: RolloutNotifications
    let logger: Logger

    /// The environments at `tip` the controller looks at: all of them, or those of `watched` (`watch --env`) that
    /// exist there, the others logged.
    func environments(at tip: ObjectID, loader: ConfigLoader, watched: [String]) throws -> [String] {
        let all = try loader.environmentNames()
        for missing in watched where !all.contains(missing) {
            logger.warning("no such environment at this commit", metadata: ["env": "\(missing)", "commit": "\(tip.short)"])
        }
        return watched.isEmpty ? all : watched.filter(all.contains)
    }

    /// The desired state of `name` at `tip` to reconcile now; nil when there is nothing to do yet (what it did instead,
    /// an invalid or held status, is published here).
    /// - Parameter applied: what the controller last carried out for the environment, when it remembers.
    nonisolated(nonsending) func decide(_ name: String, at tip: ObjectID, loader: ConfigLoader, applied: (environment: Environment, commit: ObjectID)?,
                repository: WatchedRepository) async -> Environment? {
        let report: ConfigReport
        do {
            report = try loader.load([name])
        } catch {
            logger.error("cannot read the environment", metadata: ["env": "\(name)", "error": "\(error)"])
            return nil
        }
        guard let desired = report.environments[name], !report.hasErrors else {
            await publisher.publishInvalid(name, commit: tip, diagnostics: report.diagnostics, applied: applied?.commit,
                                           repository: repository)
            return nil
        }
        let previousStatus = await publisher.latest(name, repository: repository)
        let recorded = previousStatus?.result ?? .converged
        if let previous = applied, previous.environment == desired,
           recorded != .invalid, recorded != .waiting, recorded != .refused {
            await admission.settled(name)
            return nil
        }
        if let hold = await admission.check(desired, commit: tip, status: previousStatus, applied: applied,
                                            repository: repository) {
            if let status = hold.status {
                await publisher.publish(status, repository: repository)
                if let kind = hold.notify {
                    notifications.notify(kind, status: status, environment: desired, repository: repository, once: hold.once)
                }
            }
            return nil
        }
        return desired
    }

    /// While `current` rolls out, the branch points at `tip`: decides whether that commit preempts it (see
    /// ``Preemption``) and, when it does, stops the rollout at its next safe point and waits until its `superseded`
    /// status is recorded. True when the environment is free for `tip` to reconcile now.
    nonisolated(nonsending) func preempts(_ current: RunningRollout, name: String, at tip: ObjectID, loader: ConfigLoader,
                  applied: (environment: Environment, commit: ObjectID)?, repository: WatchedRepository) async -> Bool {
        let report = try? loader.load([name])
        let candidate = (commit: tip.hex, environment: report.flatMap { $0.hasErrors ? nil : $0.environments[name] })
        let running = (commit: current.commit.hex, environment: current.environment)
        var verdict: AdmissionVerdict?
        if Preemption.needsVerdict(running: running, candidate: candidate), let desired = candidate.environment {
            verdict = await admission.verdict(desired, commit: tip, status: publisher.latest(name, repository: repository),
                                              applied: applied, repository: repository)
        }
        let log = logger.with(["env": "\(name)", "commit": "\(tip.short)", "rolling out": "\(current.commit.short)"])
        switch Preemption.decide(running: running, candidate: candidate, verdict: verdict) {
        case .keep(.sameCommit):
            return false
        case let .keep(why):
            log.log(.rolloutKept, .info, "a newer commit does not stop the rollout: \(why); it is looked at when the rollout ends")
            return false
        case .preempt:
            log.log(.rolloutPreempted, .warning, "a newer commit preempts the rollout: it stops at its next safe point, then the newer commit reconciles")
            let started = ContinuousClock.now
            await current.supersede(by: tip)
            log.info("the preempted rollout stopped", metadata: ["seconds": "\(Controller.seconds(ContinuousClock.now - started))"])
            return true
        }
    }
}
