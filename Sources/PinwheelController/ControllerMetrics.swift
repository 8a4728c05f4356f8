import CoreMetrics
import Foundation
import Metrics
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// What the controller counts and measures, through swift-metrics: the executable decides where it goes
/// (`pinwheel watch` bootstraps a Prometheus registry and serves it on `/metrics`); without a bootstrap the
/// metrics go nowhere.
///
/// Names and units follow Prometheus's conventions: base units (seconds), `_total` for counters, `_info` for a
/// metric whose labels are the information and whose value is 1. Label values are bounded: environments, results,
/// step names, slots — never hosts' errors or messages.
///
/// A value type the controller keeps in its actor: the only state is which commit each environment's info metric
/// names, so the series of a commit no longer applied can be removed.
public struct ControllerMetrics: Sendable {
    /// The metrics' names.
    public enum Name {
        /// Histogram (environment, result): how long each reconcile took, from observing the hosts to the outcome.
        public static let reconcileDuration = "pinwheel_reconcile_duration_seconds"
        /// Counter (environment, result): reconciles by how they ended.
        public static let rollouts = "pinwheel_rollouts_total"
        /// Gauge (environment, slot, healthy): hosts by the slot they serve and whether they are healthy.
        public static let hosts = "pinwheel_hosts"
        /// Counter (environment, step): host steps that failed, by step.
        public static let hostStepFailures = "pinwheel_host_step_failures_total"
        /// Counter (environment): hosts found drifted by the drift check.
        public static let driftDetected = "pinwheel_drift_detected_total"
        /// Histogram: how long each poll of the config repository took.
        public static let pollDuration = "pinwheel_poll_duration_seconds"
        /// Counter: polls that failed (remote unreachable, commit unreadable).
        public static let pollFailures = "pinwheel_poll_failures_total"
        /// Gauge: the Unix time of the last successful poll.
        public static let lastSuccessfulPoll = "pinwheel_last_successful_poll_timestamp_seconds"
        /// Gauge (environment, commit) = 1: the config commit each environment's hosts were last reconciled to.
        public static let appliedCommit = "pinwheel_applied_commit_info"
    }

    /// The `result` label of a reconcile: the outcome's result, or `reverted` when the controller committed a
    /// revert, or `stopped` when a shutdown ended it between two actions.
    public enum ResultLabel {
        public static let reverted = "reverted"
        public static let stopped = "stopped"
    }

    /// The `slot` label of hosts that serve no known slot (unreachable, or nothing routed yet).
    public static let noSlot = "none"

    /// Buckets for ``Name/reconcileDuration``: a reconcile takes from a second (nothing to do) to many minutes (a
    /// release in batches with pauses). The executable hands them to its metrics backend.
    public static let reconcileDurationBuckets: [Duration] = [
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
        .seconds(300), .seconds(600), .seconds(1800), .seconds(3600),
    ]

    /// Buckets for ``Name/pollDuration``: a poll where nothing changed is one fetch, a few milliseconds on a LAN.
    public static let pollDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    let factory: any MetricsFactory
    /// The commit each environment's ``Name/appliedCommit`` series names.
    private var appliedCommits: [String: String] = [:]
    /// The last commit held back for each environment, as `result commit`: each is counted once.
    private var heldBack: [String: String] = [:]

    /// - Parameter factory: where the metrics go; the bootstrapped metrics system by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        // Counters that should read 0 before anything happens, so `increase()` and alerts see them from the start.
        _ = Counter(label: Name.pollFailures, factory: factory)
    }

    // MARK: Reconciles

    /// A reconcile ended: its duration and its result.
    public func reconciled(environment: String, result: String, duration: Duration) {
        let dimensions = [("environment", environment), ("result", result)]
        CoreMetrics.Timer(label: Name.reconcileDuration, dimensions: dimensions, factory: factory).record(duration: duration)
        Counter(label: Name.rollouts, dimensions: dimensions, factory: factory).increment()
    }

    /// A reconcile ended: its `result` label is `reverted` when a revert was committed, `stopped` when a shutdown
    /// ended it between two actions, else the outcome's result.
    public func reconciled(environment: String, duration: Duration, outcome: EnvironmentStatus.Result, reverted: Bool,
                           stopped: Bool) {
        let result = reverted ? ResultLabel.reverted : stopped ? ResultLabel.stopped : outcome.rawValue
        reconciled(environment: environment, result: result, duration: duration)
    }

    /// A commit held back without a reconcile (`invalid`, `waiting` for a deploy window, `refused`): counted in
    /// ``Name/rollouts`` under that result, once per environment, commit and result however often it is published.
    mutating func heldBack(_ status: EnvironmentStatus) {
        let key = "\(status.result.rawValue) \(status.desired)"
        guard heldBack[status.environment] != key else { return }
        heldBack[status.environment] = key
        Counter(label: Name.rollouts, dimensions: [("environment", status.environment), ("result", status.result.rawValue)],
                factory: factory).increment()
    }

    /// Counts the host steps that failed among what a reconcile reports.
    public func record(_ event: ReconcileEvent, environment: String) {
        switch event {
        case let .phase(result, _):
            guard result.error != nil else { return }
            let failed = result.outcomes.first { !$0.ok }?.step ?? result.requested.first
            hostStepFailed(environment: environment, step: failed?.action ?? "observe")
        case .unreachable:
            hostStepFailed(environment: environment, step: "observe")
        default:
            break
        }
    }

    /// A host step failed: `step` is the agent's name for it (`prepare`, `start`, `check`, `route`, `verify`), or
    /// `observe` when the host could not be observed.
    public func hostStepFailed(environment: String, step: String) {
        Counter(label: Name.hostStepFailures, dimensions: [("environment", environment), ("step", step)], factory: factory)
            .increment()
    }

    /// The drift check found `hosts` hosts that no longer match the applied commit.
    public func driftDetected(environment: String, hosts: Int) {
        Counter(label: Name.driftDetected, dimensions: [("environment", environment)], factory: factory).increment(by: hosts)
    }

    // MARK: Status

    /// Sets the host gauges from a status: every (slot, healthy) pair of the environment is set, zeros included, so
    /// a host that moved leaves no stale series behind; and the applied commit, as the status's `applied` says.
    /// A commit held back without a reconcile (`invalid`, `waiting`, `refused`) is counted in ``Name/rollouts``.
    public mutating func observed(_ status: EnvironmentStatus) {
        if let commit = status.lastApplied {
            applied(environment: status.environment, commit: commit)
        }
        switch status.result {
        case .invalid, .waiting, .refused: heldBack(status)
        case .converged, .progressing, .degraded, .halted: heldBack[status.environment] = nil
        }
        var counts: [String: [Bool: Int]] = [:]
        for host in status.hosts.values {
            let slot = host.serving?.rawValue ?? Self.noSlot
            let healthy = host.healthy && host.error == nil
            counts[slot, default: [:]][healthy, default: 0] += 1
        }
        for slot in Slot.allCases.map(\.rawValue) + [Self.noSlot] {
            for healthy in [true, false] {
                Gauge(label: Name.hosts,
                      dimensions: [("environment", status.environment), ("slot", slot), ("healthy", healthy ? "true" : "false")],
                      factory: factory)
                    .record(counts[slot]?[healthy] ?? 0)
            }
        }
    }

    /// The environment's hosts were reconciled to `commit`: ``Name/appliedCommit`` names it, and no longer the one
    /// before.
    public mutating func applied(environment: String, commit: String) {
        if let previous = appliedCommits[environment], previous != commit {
            Gauge(label: Name.appliedCommit, dimensions: [("environment", environment), ("commit", previous)], factory: factory)
                .destroy()
        }
        appliedCommits[environment] = commit
        Gauge(label: Name.appliedCommit, dimensions: [("environment", environment), ("commit", commit)], factory: factory)
            .record(1)
    }

    // MARK: Polls

    /// A poll of the config repository ended: `failed` when the remote or the commit could not be read.
    public func polled(duration: Duration, failed: Bool, at time: Date = Date()) {
        CoreMetrics.Timer(label: Name.pollDuration, factory: factory).record(duration: duration)
        if failed {
            Counter(label: Name.pollFailures, factory: factory).increment()
        } else {
            Gauge(label: Name.lastSuccessfulPoll, factory: factory).record(time.timeIntervalSince1970)
        }
    }
}
