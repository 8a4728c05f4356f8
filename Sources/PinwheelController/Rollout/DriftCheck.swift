import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelEngine
import PinwheelGit

/// The drift check of one applied environment: observes its hosts (changing nothing) and says which no longer match
/// the commit applied, and, for `drift: report`, the status that records it.
struct DriftCheck: Sendable {
    let agents: any HostAgentFactory

    /// The hosts of `environment` that are unreachable or need a change to match `commit`; empty when none, or when
    /// its hosts cannot be reached at all.
    func drifted(_ environment: Environment, commit: ObjectID, source: any ConfigSource) async -> [HostReport] {
        guard let agents = try? agents.agents(for: environment, source: source, commit: commit.hex) else { return [] }
        let reports = await EnvironmentReconciler(environment: environment, agents: agents).plan()
        return reports.filter { $0.error != nil || !($0.plan?.isEmpty ?? true) }
    }

    /// Whether `host` never received the commit `status` records: the rollout failed or skipped it (it has a
    /// reason), or it is not in the status at all. Such a host is behind, not drifted: it gets the commit whatever the
    /// drift mode, since `drift: report` is for hosts that received it and changed afterwards.
    static func isBehind(_ host: String, status: EnvironmentStatus?) -> Bool {
        guard let status, let entry = status.hosts[host] else { return true }
        return entry.reason != nil || entry.error != nil
    }

    /// `status` after the check found `hosts` drifted from `commit` (`drift: report`): degraded, naming them.
    static func reported(_ status: EnvironmentStatus, hosts: [String], commit: ObjectID) -> EnvironmentStatus {
        var status = status
        let names = hosts.sorted()
        status.result = .degraded
        status.message = "drift: \(names.joined(separator: ", ")) no longer match\(names.count == 1 ? "es" : "") \(commit.short)"
        status.time = Controller.now()
        return status
    }
}
