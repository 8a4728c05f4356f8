import CoreMetrics
import Foundation
import Metrics
import PinwheelCore

/// What `/metrics` says about coordination (`watch --coordination`): which environments this replica holds, how old
/// each lease's last renewal is, and whether the store answers. Every replica exports its own; Prometheus's
/// `instance` label tells them apart, so `sum by (environment) (pinwheel_lease_held)` is 1 for every environment when
/// all is well, 0 while one is between owners, and never 2.
struct CoordinationMetrics: Sendable {
    enum Name {
        /// Gauge (environment): 1 while this replica holds the environment's lease and may act on it, else 0.
        static let held = "pinwheel_lease_held"
        /// Gauge (environment): seconds since the environment's lease was last acquired or renewed, by any replica.
        static let age = "pinwheel_lease_age_seconds"
        /// Gauge (environment): the lease's epoch, the fencing token hosts compare.
        static let epoch = "pinwheel_lease_epoch"
        /// Gauge: the replicas that heartbeat within a lease duration.
        static let replicas = "pinwheel_coordination_replicas"
        /// Gauge: 1 while the coordination store answers this replica, else 0.
        static let storeUp = "pinwheel_coordination_store_up"
    }

    /// Where they go: the bootstrapped metrics system by default, a test's own factory in tests.
    let factory: any MetricsFactory

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    func update(_ snapshot: CoordinationSnapshot, now: Date) {
        Gauge(label: Name.replicas, factory: factory).record(snapshot.replicas.count)
        Gauge(label: Name.storeUp, factory: factory).record(snapshot.storeProblem == nil ? 1 : 0)
        var environments = Set(snapshot.held.keys)
        for lease in snapshot.leases {
            environments.insert(lease.environment)
            let dimensions = [("environment", lease.environment)]
            Gauge(label: Name.age, dimensions: dimensions, factory: factory).record(max(0, now.timeIntervalSince(lease.renewedAt)))
            Gauge(label: Name.epoch, dimensions: dimensions, factory: factory).record(lease.epoch)
        }
        for environment in environments {
            Gauge(label: Name.held, dimensions: [("environment", environment)], factory: factory)
                .record(snapshot.held[environment] == nil ? 0 : 1)
        }
    }
}
