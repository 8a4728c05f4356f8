import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// How `plan` and `apply` report hosts, as text for people and JSON for programs.
struct HostSummary: Encodable {
    var host: String
    var outcome: String
    var steps: [String]
    /// What each step did on the host, with its own output.
    var log: [StepLog]
    /// Why it failed: Pinwheel's diagnosis, its code (a ``FailureCode``), the step, and what the host printed.
    var error: String?
    var code: String?
    var failedStep: String?
    var detail: String?
    var routed: String?
    var slots: [String: SlotSummary]
    var seconds: Double

    struct StepLog: Encodable {
        var step: String
        var ok: Bool
        var seconds: Double
        var output: [String]
    }

    struct SlotSummary: Encodable {
        var pins: [String]
        var healthy: Bool
        var problems: [String]
    }

    init(_ report: HostReport, planned: Bool) {
        host = report.host
        outcome = planned ? (report.error == nil ? (report.plan?.isEmpty == true ? "converged" : "changes") : "unreachable") : report.outcome.rawValue
        steps = planned ? (report.plan?.steps.map(\.description) ?? []) : report.phases.flatMap { $0.outcomes.map(\.step.description) }
        log = report.phases.flatMap { $0.outcomes.map { StepLog(step: $0.step.description, ok: $0.ok, seconds: $0.seconds, output: $0.output) } }
        error = report.error?.message
        code = report.error?.code.rawValue
        failedStep = report.error?.step
        detail = report.error?.detail
        let observation = report.after ?? report.before
        routed = observation?.routed?.rawValue
        var slots: [String: SlotSummary] = [:]
        if let observation {
            for slot in Slot.allCases {
                let state = observation.slots[slot]
                slots[slot.rawValue] = SlotSummary(pins: state.manifest?.pins ?? [], healthy: state.healthy, problems: state.problems)
            }
        }
        self.slots = slots
        serving = Self.serving(before: report.before, after: observation)
        seconds = report.duration.inSeconds
    }

    /// What the host serves, short even for a service with a long lock file: the pins whose versions changed
    /// for its traffic (from the slot it served before to the one it serves now), or how many it serves.
    var serving: String

    /// One or more lines for a terminal.
    var text: String {
        let width = 12
        var line = host.padding(toLength: max(width, host.count + 1), withPad: " ", startingAt: 0)
        line += outcome.padding(toLength: 12, withPad: " ", startingAt: 0)
        line += serving
        if !steps.isEmpty {
            line += " — " + steps.joined(separator: ", ")
        }
        line += String(format: " (%.1fs)", seconds)
        if let error {
            line += "\n    " + [failedStep, code].compactMap { $0 }.joined(separator: ": ") + (code == nil ? "" : " — ") + error
            if let detail { line += "\n    " + detail.replacingOccurrences(of: "\n", with: "\n    ") }
        }
        return line
    }

    static func serving(before: HostObservation?, after: HostObservation?) -> String {
        guard let after, let routed = after.routed else { return "serving nothing yet" }
        let now = after.slots[routed].manifest?.pins ?? []
        let previous = before?.routed.flatMap { before?.slots[$0].manifest?.pins }
        let changes = previous.map { EnvironmentDiff.pins(from: $0.compactMap(Pin.init(description:)), to: now.compactMap(Pin.init(description:))) } ?? []
        if !changes.isEmpty {
            let shown = changes.prefix(3).joined(separator: ", ")
            return "serving \(routed): \(shown)" + (changes.count > 3 ? " and \(changes.count - 3) more" : "")
        }
        if now.count <= 3 { return "serving \(routed) \(now.joined(separator: " "))" }
        return "serving \(routed) (\(now.count) pins)"
    }
}

/// Prints a line per host event as it happens, to standard error.
struct ProgressPrinter {
    static func event(_ event: ReconcileEvent) {
        switch event {
        case let .observed(host, plan):
            StandardError.write("  \(host): " + (plan.isEmpty ? "matches" : "needs " + plan.steps.map(\.description).joined(separator: ", ")))
        case .planned:
            break
        case let .unreachable(host, error):
            StandardError.write("  \(host): \(error.code): \(error.message)")
        case let .started(action):
            switch action {
            case let .route(hosts, stage):
                StandardError.write("switch (\(stage)): \(hosts.joined(separator: ", "))")
            case let .pause(duration):
                StandardError.write("pause \(duration) before the next batch")
            case let .rollBack(slots):
                StandardError.write("roll back: \(slots.keys.sorted().joined(separator: ", "))")
            case let .prepare(hosts):
                StandardError.write("prepare the active slot: \(hosts.count) host\(hosts.count == 1 ? "" : "s")")
            case let .prepareIdle(hosts):
                StandardError.write("prepare the idle slot: \(hosts.count) host\(hosts.count == 1 ? "" : "s")")
            case let .hook(kind, host):
                StandardError.write("\(kind.rawValue) hook on \(host)")
            case .observe, .finish:
                break
            }
        case let .phase(result, _):
            let steps = result.outcomes.map { "\($0.step)\($0.ok ? "" : " FAILED")" }.joined(separator: ", ")
            let seconds = result.duration.inSeconds
            StandardError.write(String(format: "  %@: %@ (%.1fs)%@", result.host, steps.isEmpty ? "nothing done" : steps, seconds,
                                       result.ok ? "" : " — \(result.error?.code.rawValue ?? "failed")"))
        case let .finished(outcome):
            StandardError.write("\(outcome.result.rawValue): \(outcome.message)")
        }
    }
}
