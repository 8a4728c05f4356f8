import Yams

/// Reads `Policies/<name>.yaml`. Every key is optional; what is left out takes the documented default.
struct PolicyParser {
    let reader: ConfigReader

    func parse(name: String) -> Policy? {
        guard let root = reader.mapping(reader.document.root, "the policy", optional: ["rollout", "health", "drift"]) else {
            return nil
        }
        var policy = Policy(name: name)
        if let node = root["rollout"] {
            parseRollout(node, into: &policy.rollout)
        }
        if let node = root["health"], let fields = reader.mapping(node, "`health`", optional: ["retries", "interval"]) {
            if let value = fields["retries"].flatMap({ reader.integer($0, "`health.retries`", in: 1...1000) }) {
                policy.health.retries = value
            }
            if let value = fields["interval"].flatMap({ reader.duration($0, "`health.interval`", in: .init(milliseconds: 100)...ConfigDuration.seconds(300)) }) {
                policy.health.interval = value
            }
        }
        if let node = root["drift"], let value = reader.choice(node, "`drift`", as: Policy.DriftMode.self) {
            policy.drift = value
        }
        return policy
    }

    private func parseRollout(_ node: Node, into rollout: inout Policy.Rollout) {
        let keys = ["prepare", "canary", "batch", "pause", "maxFailures", "onFailure"]
        guard let fields = reader.mapping(node, "`rollout`", optional: keys) else { return }
        if let value = fields["prepare"].flatMap({ reader.integer($0, "`rollout.prepare`", in: 1...1000) }) {
            rollout.prepare = value
        }
        if let value = fields["canary"].flatMap({ reader.integer($0, "`rollout.canary`", in: 0...1000) }) {
            rollout.canary = value
        }
        if let node = fields["batch"], let text = reader.string(node, "`rollout.batch`") {
            if let value = BatchSize(parsing: text) {
                rollout.batch = value
            } else {
                reader.error("`rollout.batch` must be a number of hosts (at least 1) or a percentage from 1% to 100%, found `\(Quote.excerpt(text))`", at: node)
            }
        }
        if let value = fields["pause"].flatMap({ reader.duration($0, "`rollout.pause`", in: .seconds(0)...ConfigDuration.seconds(3600)) }) {
            rollout.pause = value
        }
        if let value = fields["maxFailures"].flatMap({ reader.integer($0, "`rollout.maxFailures`", in: 0...100_000) }) {
            rollout.maxFailures = value
        }
        if let node = fields["onFailure"], let value = reader.choice(node, "`rollout.onFailure`", as: Policy.FailureAction.self) {
            rollout.onFailure = value
        }
    }
}
