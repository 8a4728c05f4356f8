import PinwheelCore

extension Controller {
    /// The Prometheus service discovery answer (`GET /prometheus/targets`): every environment the controller has
    /// applied, each host's web processes of both slots with their labels (see ``ScrapeTargets``).
    public func scrapeTargets() -> [ScrapeTargets.Group] {
        let statuses = lastStatuses()
        return applied.keys.sorted().flatMap { name -> [ScrapeTargets.Group] in
            guard let (environment, commit) = applied[name] else { return [] }
            return ScrapeTargets.groups(of: environment, commit: commit.hex, status: statuses[name])
        }
    }
}
