/// The rollout rules of an environment, from `Policies/<name>.yaml`.
public struct Policy: Sendable, Hashable, Codable {
    public var name: String
    public var rollout: Rollout
    public var health: HealthPolicy
    public var drift: DriftMode
    /// When changes may be applied: `windows`, `freeze` and `rollbacks`.
    public var windows: DeployWindows
    /// What the commits must carry to be applied: `verify: {signatures: required}`.
    public var verify: Verification
    /// Where the pins must have run first, and for how long: `promotion: {from: staging, soak: 30m}`.
    public var promotion: Promotion?
    /// Where the controller sends events about the environments that use this policy (`notify:`).
    public var notify: [NotifyTarget]
    /// How long the rollout waits after the canary and after each batch, watching the switched hosts (`bake:`).
    public var bake: ConfigDuration = .seconds(0)
    /// The metrics that must hold after the canary and each batch (`analysis:`); nil without.
    public var analysis: MetricAnalysis?
    /// Every pin of a requirements slot file must carry a `--hash` (`requireHashes: true`), so hosts install only
    /// the files the commit names, whatever an index serves.
    public var requireHashes: Bool

    public init(name: String, rollout: Rollout = Rollout(), health: HealthPolicy = HealthPolicy(), drift: DriftMode = .report,
                windows: DeployWindows = DeployWindows(), verify: Verification = Verification(),
                promotion: Promotion? = nil, notify: [NotifyTarget] = [], requireHashes: Bool = false) {
        self.name = name
        self.rollout = rollout
        self.health = health
        self.drift = drift
        self.windows = windows
        self.verify = verify
        self.promotion = promotion
        self.notify = notify
        self.requireHashes = requireHashes
    }

    public struct Rollout: Sendable, Hashable, Codable {
        /// Hosts whose idle slot is prepared at once.
        public var prepare: Int
        /// Hosts switched first, alone.
        public var canary: Int
        /// The size of each later batch.
        public var batch: BatchSize
        /// The wait between batches.
        public var pause: ConfigDuration
        /// Failed hosts tolerated across the whole rollout before it halts.
        public var maxFailures: Int
        public var onFailure: FailureAction

        public init(prepare: Int = 10, canary: Int = 1, batch: BatchSize = .percent(25), pause: ConfigDuration = .seconds(0),
                    maxFailures: Int = 0, onFailure: FailureAction = .halt) {
            self.prepare = prepare
            self.canary = canary
            self.batch = batch
            self.pause = pause
            self.maxFailures = maxFailures
            self.onFailure = onFailure
        }
    }

    public struct HealthPolicy: Sendable, Hashable, Codable {
        /// How many times a health check is tried before the slot counts as failed.
        public var retries: Int
        public var interval: ConfigDuration

        public init(retries: Int = 10, interval: ConfigDuration = .seconds(1)) {
            self.retries = retries
            self.interval = interval
        }
    }

    public enum FailureAction: String, Sendable, Hashable, Codable, CaseIterable {
        /// Stop switching; hosts already switched stay switched.
        case halt
        /// Stop and switch the hosts already switched back to their previous slot.
        case rollback
        /// Roll back and also commit a `git revert` of the offending commit.
        case revert
    }

    public enum DriftMode: String, Sendable, Hashable, Codable, CaseIterable {
        case report
        case heal
    }
}

/// A batch size: a number of hosts or a share of the fleet.
public enum BatchSize: Sendable, Hashable, Codable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    /// The number of hosts in a batch for a fleet of `hosts`; never less than one.
    public func hosts(of total: Int) -> Int {
        switch self {
        case let .count(count): return max(1, count)
        case let .percent(percent): return max(1, (total * percent + 99) / 100)
        }
    }

    public init?(parsing text: String) {
        if text.hasSuffix("%") {
            let digits = text.dropLast()
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  digits.count <= 3, let value = Int(digits), (1...100).contains(value) else { return nil }
            self = .percent(value)
        } else {
            guard !text.isEmpty, text.count <= 6, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
                  let value = Int(text), value >= 1 else { return nil }
            self = .count(value)
        }
    }

    public var description: String {
        switch self {
        case let .count(count): return "\(count)"
        case let .percent(percent): return "\(percent)%"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = BatchSize(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a batch size: \(text)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
