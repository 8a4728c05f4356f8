import Logging
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// Turns what a reconcile reports into the controller's log lines: one line per event, its ``ControllerEvent`` code in
/// the `event` field.
enum ReconcileLog {
    static func log(_ event: ReconcileEvent, to logger: Logger) {
        switch event {
        case let .observed(host, plan):
            guard !plan.isEmpty else { return }
            logger.log(.hostObserved, .info, "host needs", ["host": "\(host)", "steps": "\(plan.steps.map(\.description).joined(separator: ", "))"])
        case let .planned(plans, total):
            let changing = plans.filter { !$0.isEmpty }.count
            guard changing > 0 else { return }
            logger.log(.planned, .info, "rolling out", ["hosts": "\(changing)/\(total)"])
        case let .unreachable(host, error):
            logger.log(.hostUnreachable, .error, "host unreachable",
                       ["host": "\(host)", "code": "\(error.code)", "error": "\(error.message)"])
        case let .started(action):
            switch action {
            case let .observe(hosts, slot):
                logger.log(.stageStarted, .info, "observing",
                           ["stage": "\(Stage.observe.name)", "hosts": "\(hosts.count)", "warm": "\(slot?.rawValue ?? "-")"])
            case let .prepare(hosts):
                logger.log(.stageStarted, .info, "preparing the active slot", ["stage": "\(Stage.prepare.name)", "hosts": "\(hosts.count)"])
            case let .route(hosts, stage):
                logger.log(.stageStarted, .info, "switching", ["stage": "\(stage.name)", "hosts": "\(hosts.joined(separator: ","))"])
            case let .pause(duration):
                logger.log(.stageStarted, .info, "pausing between batches", ["stage": "\(Stage.pause.name)", "pause": "\(duration)"])
            case let .bake(hosts, stage, duration):
                logger.log(.stageStarted, .info, "baking",
                           ["stage": "\(Stage.bake.name)", "after": "\(stage.name)", "bake": "\(duration)", "hosts": "\(hosts.count)"])
            case let .prepareIdle(hosts):
                logger.log(.stageStarted, .info, "preparing the idle slot", ["stage": "\(Stage.idle.name)", "hosts": "\(hosts.count)"])
            case let .rollBack(slots):
                logger.log(.stageStarted, .warning, "rolling back switched hosts",
                           ["stage": "\(Stage.rollBack.name)", "hosts": "\(slots.keys.sorted().joined(separator: ","))"])
            case let .hook(kind, host):
                logger.log(.stageStarted, .info, "running the release hook",
                           ["stage": "\(Stage.hook(kind).name)", "hook": "\(kind.rawValue)", "host": "\(host)"])
            case .finish:
                break
            }
        case let .phase(result, stage):
            var metadata: Logger.Metadata = [
                "host": "\(result.host)", "stage": "\(stage.name)",
                "steps": "\(result.requested.map(\.description).joined(separator: ", "))", "ok": "\(result.error == nil)",
                "seconds": "\(Controller.seconds(result.duration))",
            ]
            // The diagnosis only: what the host printed stays on the page and in notifications, out of the log.
            if let error = result.error {
                metadata["code"] = "\(error.code)"
                if let step = error.step { metadata["failed"] = "\(step)" }
                metadata["error"] = "\(error.message)"
                logger.log(.hostFinished, .error, "host step failed", metadata)
            } else {
                logger.log(.hostFinished, .info, "host step done", metadata)
            }
        case let .analysis(event):
            switch event {
            case let .measured(measurement, stage):
                var metadata: Logger.Metadata = ["stage": "\(stage.name)", "metric": "\(measurement.metric)",
                                                 "outcome": "\(measurement.outcome.rawValue)"]
                if let value = measurement.value { metadata["value"] = "\(MetricAnalysis.Rule.number(value))" }
                if let baseline = measurement.baseline { metadata["baseline"] = "\(MetricAnalysis.Rule.number(baseline))" }
                if let note = measurement.note { metadata["note"] = "\(note)" }
                logger.log(.analysisMeasured, .info, "measured", metadata)
            case let .held(metric, reason, stage):
                logger.log(.analysisHeld, .warning, "analysis held: the rollout waits for data or a newer commit",
                           ["stage": "\(stage.name)", "metric": "\(metric)", "reason": "\(reason)"])
            case let .ended(analysis):
                let metadata: Logger.Metadata = ["stage": "\(analysis.stage)", "verdict": "\(analysis.verdict.rawValue)",
                                                 "reason": "\(analysis.reason ?? "-")"]
                if analysis.verdict == .passed {
                    logger.log(.analysisFinished, .info, "baked", metadata)
                } else {
                    logger.log(.analysisFinished, .warning, "bake ended", metadata)
                }
            }
        case .finished:
            break
        }
    }
}
