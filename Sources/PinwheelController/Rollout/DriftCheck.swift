import Foundation
import Logging
import PinwheelCore
import PinwheelFleet
import PinwheelEngine
import PinwheelGit

/// The drift check of one applied environment: observes its hosts (changing nothing), sorts the hosts that differ
/// into behind and drifted (``DriftTriage``), records and announces the drift, and says what the controller then
/// reconciles, if anything.
struct DriftCheck: Sendable {
    /// What the controller reconciles after a check: every host (`only` nil), or only the hosts behind, leaving the
    /// others as `kept` says.
    struct Reconcile: Sendable {
        var only: Set<String>?
        var kept: DriftTriage.Kept?
    }

    let agents: any HostAgentFactory
    let publisher: StatusPublisher
    let notifications: RolloutNotifications
    let metrics: ControllerMetrics
    let logger: Logger

    /// Checks `environment`, applied at `commit`; nil when nothing is to be reconciled (nothing differs, or the drift
    /// is only reported). Environments halted or invalid are left alone: a new commit is a new decision.
    func run(_ environment: Environment, commit: ObjectID, source: any ConfigSource,
             repository: WatchedRepository) async -> Reconcile? {
        let name = environment.name
        let last = publisher.status(of: name)
        guard last?.result != .halted, last?.result != .invalid else { return nil }
        let differing = await differing(environment, commit: commit, source: source)
        let triage = DriftTriage(differing: differing.map(\.host), status: last)
        let response = triage.response(environment.policy.drift)
        if !triage.behind.isEmpty, response != .report {
            logger.info("hosts behind the applied commit: reconciling them",
                        metadata: ["env": "\(name)", "commit": "\(commit.short)", "hosts": "\(triage.behind.joined(separator: ","))"])
        }
        if !triage.drifted.isEmpty {
            metrics.driftDetected(environment: name, hosts: triage.drifted.count)
            logger.log(.driftFound, .warning, "drift", ["env": "\(name)", "commit": "\(commit.short)",
                                               "hosts": "\(triage.drifted.joined(separator: ","))",
                                               "drift": "\(environment.policy.drift.rawValue)"])
            let drifted = Set(triage.drifted)
            notifications.notifyDrift(environment, commit: commit, hosts: differing.filter { drifted.contains($0.host) },
                                      repository: repository)
        }
        switch response {
        case .nothing:
            return nil
        case .reconcileAll:
            return Reconcile()
        case .reconcileBehind:
            return Reconcile(only: Set(triage.behind), kept: triage.kept(of: environment.hosts.map(\.name), status: last))
        case .report:
            if let status = publisher.status(of: name) {
                await publisher.publish(DriftTriage.reported(status, hosts: triage.drifted, commit: commit.short), repository: repository)
            }
            return nil
        }
    }

    /// The hosts of `environment` that are unreachable or need a change to match `commit`; empty when none, or when
    /// its hosts cannot be reached at all.
    private func differing(_ environment: Environment, commit: ObjectID, source: any ConfigSource) async -> [HostReport] {
        guard let agents = try? agents.agents(for: environment, source: source, commit: commit.hex) else { return [] }
        let reports = await EnvironmentReconciler(environment: environment, agents: agents).plan()
        return reports.filter { $0.error != nil || !($0.plan?.isEmpty ?? true) }
    }
}
