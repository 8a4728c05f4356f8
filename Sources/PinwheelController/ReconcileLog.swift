import Logging
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// Turns what a reconcile reports into the controller's log lines: one logfmt line per event.
enum ReconcileLog {
    static func log(_ event: ReconcileEvent, to logger: Logger) {
        switch event {
        case let .observed(host, plan):
            guard !plan.isEmpty else { return }
            logger.info("host needs", metadata: ["host": "\(host)", "steps": "\(plan.steps.map(\.description).joined(separator: ", "))"])
        case let .planned(plans, total):
            let changing = plans.filter { !$0.isEmpty }.count
            guard changing > 0 else { return }
            logger.info("rolling out", metadata: ["hosts": "\(changing)/\(total)"])
        case let .unreachable(host, error):
            logger.error("host unreachable", metadata: ["host": "\(host)", "code": "\(error.code)", "error": "\(error.message)"])
        case let .started(action):
            switch action {
            case let .observe(hosts, slot):
                logger.info("observing", metadata: ["hosts": "\(hosts.count)", "warm": "\(slot?.rawValue ?? "-")"])
            case let .prepare(hosts):
                logger.info("preparing the active slot", metadata: ["hosts": "\(hosts.count)"])
            case let .route(hosts, stage):
                logger.info("switching", metadata: ["stage": "\(stage.name)", "hosts": "\(hosts.joined(separator: ","))"])
            case let .pause(duration):
                logger.info("pausing between batches", metadata: ["pause": "\(duration)"])
            case let .prepareIdle(hosts):
                logger.info("preparing the idle slot", metadata: ["hosts": "\(hosts.count)"])
            case let .rollBack(slots):
                logger.warning("rolling back switched hosts", metadata: ["hosts": "\(slots.keys.sorted().joined(separator: ","))"])
            case let .hook(kind, host):
                logger.info("running the release hook", metadata: ["hook": "\(kind.rawValue)", "host": "\(host)"])
            case .finish:
                break
            }
        case let .phase(result, stage):
            var metadata: Logger.Metadata = [
                "host": "\(result.host)", "stage": "\(stage.name)",
                "steps": "\(result.requested.map(\.description).joined(separator: ", "))",
                "seconds": "\(Controller.seconds(result.duration))",
            ]
            // The diagnosis only: what the host printed stays on the page and in notifications, out of the log.
            if let error = result.error {
                metadata["code"] = "\(error.code)"
                if let step = error.step { metadata["failed"] = "\(step)" }
                metadata["error"] = "\(error.message)"
                logger.error("host step failed", metadata: metadata)
            } else {
                logger.info("host step done", metadata: metadata)
            }
        case .finished:
            break
        }
    }
}
