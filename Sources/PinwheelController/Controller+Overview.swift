import PinwheelCore

extension Controller {
    /// Every environment the controller has a status or a rollout of, sorted by name: what the status page and
    /// `GET /api/v1/environments` show. The history is cached until the branch or the status branch moves.
    public func overview() -> [EnvironmentOverview] {
        let statuses = lastStatuses()
        let rollouts = progress.snapshot()
        return Set(statuses.keys).union(rollouts.keys).sorted().compactMap { overview(of: $0, statuses, rollouts) }
    }

    /// One environment's overview; nil when the controller has neither a status nor a rollout of it.
    public func overview(of name: String) -> EnvironmentOverview? {
        overview(of: name, lastStatuses(), progress.snapshot())
    }

    private func overview(of name: String, _ statuses: [String: EnvironmentStatus],
                          _ rollouts: [String: RolloutProgress]) -> EnvironmentOverview? {
        let history = repository.map { historyCache.recent(name, in: $0) } ?? []
        if let status = statuses[name] {
            var overview = EnvironmentOverview(status: status.redacting(configuration.knownSecrets), progress: rollouts[name], history: history)
            overview.statusWarning = publisher.warning(of: name)
            return overview
        }
        return rollouts[name].map { EnvironmentOverview(environment: name, progress: $0, history: history) }
    }
}
