import Foundation
import PinwheelCore

extension Controller {
    /// How the controller is doing: `ok`, or `degraded` when the last poll failed or an environment is not converged.
    public struct Health: Sendable {
        public var status: String
        public var lastPoll: Date?
        public var lastError: String?
        public var environments: [String: String]
    }

    public func health() -> Health {
        let results = publisher.all.mapValues(\.result.rawValue)
        let status = polls.failures > 0 || results.values.contains { $0 != EnvironmentStatus.Result.converged.rawValue } ? "degraded" : "ok"
        return Health(status: status, lastPoll: polls.lastPoll, lastError: polls.lastError, environments: results)
    }

    /// The last status recorded for each environment, by name (what `/api/v1/environments` answers).
    public func lastStatuses() -> [String: EnvironmentStatus] {
        publisher.all
    }
}

extension Controller.Health {
    /// One line for a supervisor (systemd's `STATUS=`, shown by `systemctl status`): the controller's health, when
    /// it last polled, its environments by result, and the last error when there is one.
    public func summary(now: Date = Date()) -> String {
        var parts = [status]
        if let lastPoll {
            parts.append("polled \(Int(now.timeIntervalSince(lastPoll).rounded(.down)))s ago")
        } else {
            parts.append("not polled yet")
        }
        if environments.isEmpty {
            parts.append("no environments")
        } else {
            let counts = Dictionary(grouping: environments.values, by: { $0 }).mapValues(\.count)
            let byResult = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            parts.append("\(environments.count) environment\(environments.count == 1 ? "" : "s"): \(byResult)")
        }
        if let lastError {
            parts.append("last error: \(lastError)")
        }
        return parts.joined(separator: "; ")
    }
}
