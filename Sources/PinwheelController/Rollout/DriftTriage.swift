import PinwheelCore

/// What a drift check does about the hosts that no longer match the applied commit. A host that never received the
/// commit (behind: down, unreachable or skipped during its rollout) gets it in any drift mode; a host that received it
/// and changed afterwards (drifted) is healed or only reported, as the policy's `drift:` says. Pure: it decides from
/// the hosts found differing and the last status, so every mix is unit-tested without hosts.
struct DriftTriage: Sendable, Equatable {
    /// The differing hosts that never received the commit, sorted.
    let behind: [String]
    /// The differing hosts that received the commit and changed afterwards, sorted.
    let drifted: [String]

    enum Response: Sendable, Equatable {
        /// Every host matches.
        case nothing
        /// Reconcile every host: `drift: heal`, or only hosts behind differ.
        case reconcileAll
        /// `drift: report` with hosts behind as well as drifted ones: only the hosts behind are reconciled; the
        /// others are left alone and the drifted ones reported (``DriftTriage/keeping(_:in:commit:)``).
        case reconcileBehind
        /// `drift: report` and no host behind: the drift is recorded, nothing is touched.
        case report
    }

    /// The hosts a reconcile of the hosts behind leaves alone: their last status entries, carried into the status it
    /// publishes, and which of them drifted, reported there.
    struct Kept: Sendable, Equatable {
        var hosts: [String: EnvironmentStatus.HostStatus]
        var drifted: [String]
    }

    init(differing: [String], status: EnvironmentStatus?) {
        let names = Set(differing).sorted()
        behind = names.filter { Self.isBehind($0, status: status) }
        drifted = names.filter { !Self.isBehind($0, status: status) }
    }

    func response(_ mode: Policy.DriftMode) -> Response {
        if behind.isEmpty, drifted.isEmpty { return .nothing }
        if drifted.isEmpty || mode == .heal { return .reconcileAll }
        return behind.isEmpty ? .report : .reconcileBehind
    }

    /// For ``Response/reconcileBehind``: every host of `hosts` that is not behind, with its entry in `status`.
    func kept(of hosts: [String], status: EnvironmentStatus?) -> Kept {
        let behind = Set(behind)
        var entries: [String: EnvironmentStatus.HostStatus] = [:]
        for host in hosts where !behind.contains(host) {
            if let entry = status?.hosts[host] { entries[host] = entry }
        }
        return Kept(hosts: entries, drifted: drifted)
    }

    /// Whether `host` never received the commit `status` records: the rollout failed or skipped it (it has a
    /// reason), or it is not in the status at all. Such a host is behind, not drifted: it gets the commit whatever the
    /// drift mode, since `drift: report` is for hosts that received it and changed afterwards.
    static func isBehind(_ host: String, status: EnvironmentStatus?) -> Bool {
        guard let status, let entry = status.hosts[host] else { return true }
        return entry.reason != nil || entry.error != nil
    }

    /// `status` after the check found `hosts` drifted from `commit` (its short form; `drift: report`): degraded,
    /// naming them.
    static func reported(_ status: EnvironmentStatus, hosts: [String], commit: String,
                         time: String = Controller.now()) -> EnvironmentStatus {
        var status = status
        status.result = .degraded
        status.message = note(hosts, commit: commit)
        status.time = time
        return status
    }

    /// The status a reconcile of the hosts behind ended with, with the hosts it left alone as they were last recorded;
    /// drift among them turns a converged or degraded result into degraded, saying so.
    static func keeping(_ kept: Kept, in status: EnvironmentStatus, commit: String) -> EnvironmentStatus {
        var status = status
        for (host, entry) in kept.hosts { status.hosts[host] = entry }
        guard !kept.drifted.isEmpty, status.result == .converged || status.result == .degraded else { return status }
        let note = note(kept.drifted, commit: commit)
        status.message = status.result == .converged ? note : "\(status.message); \(note)"
        status.result = .degraded
        return status
    }

    private static func note(_ hosts: [String], commit: String) -> String {
        let names = hosts.sorted()
        return "drift: \(names.joined(separator: ", ")) no longer match\(names.count == 1 ? "es" : "") \(commit)"
    }
}
