import Foundation

/// What one status commit says, read back from its message's summary and trailers (see
/// ``EnvironmentStatus/commitMessage``), without reading the status file.
public struct StatusRecord: Sendable, Hashable, Codable {
    public var environment: String
    /// The full id of the config commit the status is about.
    public var desired: String
    public var result: String
    /// Healthy hosts serving the desired slot and all hosts, from the summary's `N/M hosts`.
    public var healthyHosts: Int?
    public var hosts: Int?
    public var revert: String?
    public var summary: String
    /// The reason code (`Pinwheel-Reason`): a held status's admission code, a halted or degraded one's failure code.
    public var reason: String?
    /// The step the reason is about (`Pinwheel-Reason-Step`), for a failure.
    public var reasonStep: String?
    /// The override it records (`Pinwheel-Override`, `-By`, `Pinwheel-Overridden`), nil when none.
    public var override: Override?
    /// The newer commit that interrupted the rollout (`Pinwheel-Superseded-By`), for a `superseded` status.
    public var supersededBy: String?
    /// The hosts the interrupted rollout had switched (`Pinwheel-Switched`).
    public var switched: [String]?
    /// The controller replica that recorded it and its lease epoch (`Pinwheel-Replica`, `Pinwheel-Epoch`), with several
    /// controllers; nil for a controller alone.
    public var owner: LeaseStamp?
    /// Each bake's verdict in one line (`Pinwheel-Analysis`, one per stage): `canary: failed — error-ratio = 0.5, …`.
    public var analysis: [String] = []

    /// `apply --override` as a status commit's trailers say it.
    public struct Override: Sendable, Hashable, Codable {
        public var reason: String
        public var by: String?
        /// The admission codes it overrode.
        public var overrode: [String]
    }

    public init(environment: String, desired: String, result: String, healthyHosts: Int?, hosts: Int?,
                revert: String?, summary: String, reason: String? = nil, reasonStep: String? = nil, override: Override? = nil) {
        self.environment = environment
        self.desired = desired
        self.result = result
        self.healthyHosts = healthyHosts
        self.hosts = hosts
        self.revert = revert
        self.summary = summary
        self.reason = reason
        self.reasonStep = reasonStep
        self.override = override
    }

    /// The record of a status commit, nil when its trailers are not a Pinwheel status (no
    /// `Pinwheel-Environment` or `Pinwheel-Desired`).
    public static func parse(summary: String, trailers: [(key: String, value: String)]) -> StatusRecord? {
        func value(_ key: String) -> String? {
            trailers.last { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value.trimmingCharacters(in: .whitespaces)
        }
        guard let environment = value("Pinwheel-Environment"), let desired = value("Pinwheel-Desired") else { return nil }
        let counts = hostCounts(in: summary)
        let override = value("Pinwheel-Override").map { reason in
            Override(reason: reason, by: value("Pinwheel-Override-By"),
                     overrode: (value("Pinwheel-Overridden") ?? "").split(separator: ",")
                         .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        var record = StatusRecord(environment: environment, desired: desired.lowercased(), result: value("Pinwheel-Result") ?? "unknown",
                                  healthyHosts: counts?.healthy, hosts: counts?.total, revert: value("Pinwheel-Revert"), summary: summary,
                                  reason: value("Pinwheel-Reason"), reasonStep: value("Pinwheel-Reason-Step"), override: override)
        record.supersededBy = value("Pinwheel-Superseded-By")?.lowercased()
        record.switched = value("Pinwheel-Switched").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let replica = value("Pinwheel-Replica"), let epoch = value("Pinwheel-Epoch").flatMap({ Int64($0) }) {
            record.owner = LeaseStamp(replica: replica, epoch: epoch)
        }
        record.analysis = trailers.filter { $0.key.caseInsensitiveCompare("Pinwheel-Analysis") == .orderedSame }
            .map { $0.value.trimmingCharacters(in: .whitespaces) }
        return record
    }

    /// `N/M hosts` at the end of a summary line.
    static func hostCounts(in summary: String) -> (healthy: Int, total: Int)? {
        guard let range = summary.range(of: #"([0-9]+)/([0-9]+) hosts$"#, options: .regularExpression) else { return nil }
        let numbers = summary[range].dropLast(" hosts".count).split(separator: "/").compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        return (numbers[0], numbers[1])
    }
}
