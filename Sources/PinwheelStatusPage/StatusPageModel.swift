import Foundation
import PinwheelController
import PinwheelCore

/// What the template renders: the overviews turned into plain strings, flags and lists, so the template needs no
/// logic (Mustache has none). Every value is HTML-escaped by the template's `{{…}}`.
struct StatusPageModel: Sendable {
    struct Environment: Sendable {
        var name: String
        var result: String
        /// A CSS class for the result: `ok`, `busy`, `warn`, `bad`.
        var tone: String
        var desired: String
        var desiredShort: String
        var applied: String?
        /// With several controllers: the replica that recorded the status and its lease epoch.
        var owner: String?
        var message: String
        /// Why the newest status was not believed (not signed by the controller).
        var statusWarning: String?
        var time: String
        var active: String
        var pins: [String]
        var healthyCount: Int
        var hostCount: Int
        var hosts: [Host]
        var errors: [String]
        var hasErrors: Bool
        /// The revert the controller committed (names differ between levels: Mustache looks a missing value up in
        /// the enclosing objects).
        var revertCommit: String?
        /// The newer commit that stopped this one's rollout (a `superseded` status), and the hosts it had switched.
        var supersededBy: String?
        var switchedHosts: String?
        /// Each bake's verdict in one line (`bake:`, `analysis:` in the policy).
        var analysis: [String]
        var hasAnalysis: Bool
        var progress: Progress?
        var history: [Change]
        var hasHistory: Bool
    }

    struct Host: Sendable {
        var name: String
        var serving: String
        /// Whether the host serves the environment's active slot.
        var onActive: Bool
        var version: String
        var healthy: Bool
        var health: String
        /// The health badge's CSS class: `ok` or `bad`.
        var healthTone: String
        var hostError: String?
    }

    struct Progress: Sendable {
        var commitShort: String
        var started: String
        var stage: String
        var done: Int
        var hosts: Int
        var percent: Int
        var stageDone: Int
        var stageHosts: Int
        var hasStageHosts: Bool
        var failures: [Failure]
        var hasFailures: Bool
    }

    struct Failure: Sendable {
        var host: String
        var message: String
        /// What the host printed about it (bounded and escaped by the engine; HTML-escaped by the template).
        var detail: String
        var hasDetail: Bool
    }

    struct Change: Sendable {
        var commitShort: String
        var summary: String
        var author: String
        var time: String
        var changes: [String]
        var result: String
        var tone: String
        var revertedBy: String?
        var supersededByCommit: String?
    }

    var environments: [Environment]
    var hasEnvironments: Bool
    /// Whether a rollout runs in any environment: the page then refreshes itself often.
    var rolling: Bool
    var refreshSeconds: Int
    /// The newest status time shown.
    var asOf: String

    /// Seconds between refreshes while a rollout runs, and when none does.
    static let rollingRefresh = 2
    static let idleRefresh = 30

    init(_ overviews: [EnvironmentOverview]) {
        environments = overviews.map(Self.environment)
        hasEnvironments = !environments.isEmpty
        rolling = overviews.contains { $0.progress != nil }
        refreshSeconds = rolling ? Self.rollingRefresh : Self.idleRefresh
        asOf = overviews.map(\.status.time).max() ?? "no status yet"
    }

    static func environment(_ overview: EnvironmentOverview) -> Environment {
        let status = overview.status
        let hosts = status.hosts.sorted { inNaturalOrder($0.key, $1.key) }.map { host($0.key, $0.value, active: status.active) }
        let history = overview.history.map { change in
            // A commit being rolled out has no result yet: it says so rather than "not applied".
            let result = change.result ?? (change.commit == overview.progress?.commit ? "rolling out" : nil)
            return Change(commitShort: short(change.commit), summary: change.summary, author: change.author, time: change.time,
                          changes: change.changes, result: result ?? "not applied", tone: tone(result),
                          revertedBy: change.revert.map(short), supersededByCommit: change.supersededBy.map(short))
        }
        return Environment(
            name: status.environment, result: status.result.rawValue, tone: tone(status.result.rawValue),
            desired: status.desired, desiredShort: short(status.desired),
            applied: status.applied.flatMap { $0 == status.desired ? nil : short($0) },
            owner: status.owner.map { "\($0.replica) (lease epoch \($0.epoch))" },
            message: status.message, statusWarning: overview.statusWarning, time: status.time, active: status.active?.rawValue ?? "none",
            pins: status.pins, healthyCount: hosts.filter { $0.healthy && $0.onActive }.count, hostCount: hosts.count,
            hosts: hosts, errors: status.errors, hasErrors: !status.errors.isEmpty, revertCommit: status.revert.map(short),
            supersededBy: status.superseded.map { short($0.by) },
            switchedHosts: status.superseded.map { $0.switched.isEmpty ? "none" : $0.switched.joined(separator: ", ") },
            analysis: (status.analysis ?? []).map(\.summary), hasAnalysis: !(status.analysis ?? []).isEmpty,
            progress: overview.progress.map(progress), history: history, hasHistory: !history.isEmpty)
    }

    static func host(_ name: String, _ host: EnvironmentStatus.HostStatus, active: Slot?) -> Host {
        let serving = host.serving
        let pins = serving.flatMap { host.slots[$0.rawValue] } ?? []
        return Host(name: name, serving: serving?.rawValue ?? "none", onActive: serving != nil && serving == active,
                    version: pins.isEmpty ? "—" : pins.map { $0.replacingOccurrences(of: "==", with: " ") }.joined(separator: ", "),
                    healthy: host.healthy, health: host.healthy ? "healthy" : "unhealthy", healthTone: host.healthy ? "ok" : "bad",
                    hostError: host.error)
    }

    static func progress(_ progress: RolloutProgress) -> Progress {
        Progress(commitShort: short(progress.commit), started: progress.started, stage: progress.stage,
                 done: progress.done, hosts: progress.hosts,
                 percent: progress.hosts == 0 ? 0 : min(100, progress.done * 100 / progress.hosts),
                 stageDone: progress.stageDone, stageHosts: progress.stageHosts, hasStageHosts: progress.stageHosts > 0,
                 failures: progress.failures.sorted { inNaturalOrder($0.key, $1.key) }.map { Failure(host: $0.key, message: $0.value, detail: progress.details[$0.key] ?? "",
                                                                                     hasDetail: progress.details[$0.key] != nil) },
                 hasFailures: !progress.failures.isEmpty)
    }

    static func tone(_ result: String?) -> String {
        switch result {
        case "converged": return "ok"
        case "progressing", "waiting", "rolling out", "superseded": return "busy"
        case "degraded", "invalid", "refused", nil: return "warn"
        default: return "bad"
        }
    }

    /// `web2` before `web10`.
    static func inNaturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: .numeric) == .orderedAscending
    }

    static func short(_ commit: String) -> String {
        String(commit.prefix(7))
    }
}
