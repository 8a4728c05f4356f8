import Logging
import PinwheelCore
import PinwheelGit

extension Controller {
    /// While `current` rolls out, the branch points at `tip`: decides whether that commit preempts it (see
    /// ``Preemption``) and, when it does, stops the rollout at its next safe point and waits until its `superseded`
    /// status is recorded. True when the environment is free for `tip` to reconcile now.
    func preempts(_ current: RunningRollout, name: String, at tip: ObjectID, loader: ConfigLoader,
                  repository: WatchedRepository) async -> Bool {
        let report = try? loader.load([name])
        let candidate = (commit: tip.hex, environment: report.flatMap { $0.hasErrors ? nil : $0.environments[name] })
        let running = (commit: current.commit.hex, environment: current.environment)
        var verdict: AdmissionVerdict?
        if Preemption.needsVerdict(running: running, candidate: candidate), let desired = candidate.environment {
            verdict = await admission.verdict(desired, commit: tip, status: publisher.latest(name, repository: repository),
                                              applied: applied[name], repository: repository)
        }
        let log = logger.with(["env": "\(name)", "commit": "\(tip.short)", "rolling out": "\(current.commit.short)"])
        switch Preemption.decide(running: running, candidate: candidate, verdict: verdict) {
        case .keep(.sameCommit):
            return false
        case let .keep(why):
            log.info("a newer commit does not stop the rollout: \(why); it is looked at when the rollout ends")
            return false
        case .preempt:
            log.warning("a newer commit preempts the rollout: it stops at its next safe point, then the newer commit reconciles")
            let started = ContinuousClock.now
            await current.supersede(by: tip)
            log.info("the preempted rollout stopped", metadata: ["seconds": "\(Controller.seconds(ContinuousClock.now - started))"])
            return true
        }
    }
}
