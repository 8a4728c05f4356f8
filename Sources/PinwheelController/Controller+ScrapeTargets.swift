import PinwheelCore

extension Controller {
    /// The Prometheus service discovery answer (`GET /prometheus/targets`): every environment the controller has
    /// applied, each host's web processes of both slots with their labels (see ``ScrapeTargets``). During a rollout
    /// each host is labelled with what it reported last, so a slot just prepared is scraped under its new version
    /// at once, not after the rollout's status.
    public func scrapeTargets() -> [ScrapeTargets.Group] {
        let statuses = lastStatuses()
        let rollouts = progress.snapshot()
        return applied.keys.sorted().flatMap { name -> [ScrapeTargets.Group] in
            guard let (environment, commit) = applied[name] else { return [] }
            var status = statuses[name]
            if let reported = rollouts[name]?.reported {
                status?.hosts.merge(reported) { _, new in new }
            }
            return ScrapeTargets.groups(of: environment, commit: commit.hex, status: status)
        }
    }
}
