import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// What `pinwheel apply` shows on a terminal while it runs: one status line, redrawn in place, with the current
/// stage's hosts done of total and its failures (`batch 1: 3/5 hosts, 1 failed · 7 changed, 1 failed of 20 · 12s`),
/// and a permanent line above it for each failure and each finished stage.
///
/// Pure: it is fed the engine's events and the time since apply started, and answers text; the command decides
/// whether the output is a terminal and writes the escape codes.
public struct TerminalProgress: Sendable {
    public let environment: String
    private var stage: Stage?
    /// The current stage's hosts, and its pause in seconds.
    private var stageHosts: [String] = []
    private var pause: Double = 0
    private var done = 0
    private var stageFailed = 0
    private var stageStarted: Duration = .zero
    /// Hosts that finished a step of any stage, and those that failed one, across the rollout.
    private var changed: Set<String> = []
    private var failed: Set<String> = []
    private var hosts = 0
    private var observed = 0
    private var result: String?

    public init(environment: String, hosts: Int) {
        self.environment = environment
        self.hosts = hosts
    }

    /// Takes in an event at `elapsed` since apply started; answers the lines to print for good above the status
    /// line (none for most events).
    public mutating func record(_ event: ReconcileEvent, at elapsed: Duration) -> [String] {
        switch event {
        case .observed:
            observed += 1
            return []
        case let .unreachable(host, error):
            observed += 1
            failed.insert(host)
            if stage?.runsHostSteps == true { stageFailed += 1 }
            let message = Self.oneLine(error.message)
            return [message.hasPrefix(host) ? "  \(message) (\(error.code))" : "  \(host): \(error.code) — \(message)"]
        case let .planned(plans, total):
            let changing = plans.filter { !$0.isEmpty }.count
            return changing == 0 ? [] : ["planned: \(changing) of \(total) host\(total == 1 ? "" : "s") need a change"]
        case let .started(action):
            let lines = endStage(at: elapsed)
            guard let next = action.stage else { return lines }
            stage = next
            stageHosts = action.hosts
            if case let .pause(duration) = action { pause = duration.duration.inSeconds }
            done = 0
            stageFailed = 0
            observed = 0
            stageStarted = elapsed
            return lines
        case let .phase(result, _):
            if stage?.runsHostSteps == true || stage == nil { done += 1 }
            if result.ok {
                if result.changedAnything { changed.insert(result.host) }
                return []
            }
            failed.insert(result.host)
            stageFailed += 1
            let step = result.error?.step ?? result.requested.first?.description ?? "step"
            var message = Self.oneLine(result.error?.message ?? "failed")
            if message.hasPrefix("\(result.host): ") { message.removeFirst(result.host.count + 2) }
            let code = result.error.map { " (\($0.code))" } ?? ""
            return ["  \(result.host): \(step) FAILED\(code) — \(message)"]
        case let .finished(outcome):
            var lines = endStage(at: elapsed)
            stage = nil
            result = outcome.result.rawValue
            let message = Self.oneLine(outcome.message)
            lines.append(message.hasPrefix("\(outcome.result.rawValue):") ? message : "\(outcome.result.rawValue): \(message)")
            return lines
        }
    }

    /// The status line, at most `width` columns (cut with `…`), without a newline.
    public func statusLine(at elapsed: Duration, width: Int = 80) -> String {
        var parts: [String] = []
        if let stage {
            switch stage {
            case .observe:
                parts.append("observe: \(observed)/\(stageHosts.count) host\(stageHosts.count == 1 ? "" : "s")")
            case .pause:
                let left = max(0, pause - (elapsed - stageStarted).inSeconds)
                parts.append("pause: \(Int(left.rounded(.up)))s before the next batch")
            default:
                var text = "\(stage.name): \(done)/\(stageHosts.count) host\(stageHosts.count == 1 ? "" : "s")"
                if stageFailed > 0 { text += ", \(stageFailed) failed" }
                parts.append(text)
            }
        } else {
            parts.append(result ?? "starting")
        }
        parts.append("\(changed.subtracting(failed).count) changed, \(failed.count) failed of \(hosts)")
        parts.append("\(Int(elapsed.inSeconds))s")
        return Self.cut("\(environment) ▸ " + parts.joined(separator: " · "), to: width)
    }

    /// The finished stage's line, e.g. `✓ prepare: 20/20 hosts in 8.2s` or `✗ canary: 1/1 host, 1 failed in 3.0s`.
    private mutating func endStage(at elapsed: Duration) -> [String] {
        guard let stage, stage.runsHostSteps else { return [] }
        self.stage = nil
        let seconds = (elapsed - stageStarted).inSeconds
        let mark = stageFailed > 0 ? "✗" : "✓"
        var line = "\(mark) \(stage.name): \(done)/\(stageHosts.count) host\(stageHosts.count == 1 ? "" : "s")"
        if stageFailed > 0 { line += ", \(stageFailed) failed" }
        line += " in " + String(Double(Int(seconds * 10)) / 10) + "s"
        return [line]
    }

    static func oneLine(_ text: String) -> String {
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return first.count > 200 ? String(first.prefix(199)) + "…" : first
    }

    static func cut(_ text: String, to width: Int) -> String {
        guard text.count > width, width > 1 else { return text }
        return String(text.prefix(width - 1)) + "…"
    }
}
