import PinwheelCore

/// Everything the status page and `GET /api/v1/environments` show of one environment: the controller's last status,
/// the rollout under way, and the recent history. While a rollout runs, each host that has reported since it started
/// shows what it reported last instead of what the last status says.
///
/// Encoded as the status's own fields (what the API answered before it had more) plus `progress` (absent when no
/// rollout runs) and `history`.
public struct EnvironmentOverview: Sendable, Hashable, Encodable {
    public var status: EnvironmentStatus
    public var progress: RolloutProgress?
    /// Newest first.
    public var history: [RecentChange]
    /// Why the newest status on the status branch was not believed (not signed by the controller's key): shown
    /// until a status of the controller's own replaces it.
    public var statusWarning: String?

    public init(status: EnvironmentStatus, progress: RolloutProgress? = nil, history: [RecentChange] = []) {
        var status = status
        status.hosts.merge(progress?.reported ?? [:]) { _, reported in reported }
        self.status = status
        self.progress = progress
        self.history = history
    }

    /// An environment rolling out for the first time has no status yet: its overview says it is progressing.
    public init(environment: String, progress: RolloutProgress, history: [RecentChange] = []) {
        self.init(status: EnvironmentStatus(environment: environment, desired: progress.commit, result: .progressing,
                                            message: "the first rollout is under way", time: progress.started,
                                            active: nil, pins: [], hosts: [:]),
                  progress: progress, history: history)
    }

    private enum CodingKeys: String, CodingKey {
        case progress, history, statusWarning
    }

    public func encode(to encoder: any Encoder) throws {
        try status.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(progress, forKey: .progress)
        try container.encode(history, forKey: .history)
        try container.encodeIfPresent(statusWarning, forKey: .statusWarning)
    }
}
