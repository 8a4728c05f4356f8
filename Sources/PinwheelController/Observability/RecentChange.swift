import PinwheelReleases

/// One change to an environment as the status page lists it: who made it, what it changed, when, and what the
/// controller made of it. A summary of an ``EnvironmentHistory/Entry``.
public struct RecentChange: Sendable, Hashable, Codable {
    /// The config commit.
    public var commit: String
    public var summary: String
    /// Who made it: the commit's author.
    public var author: String
    /// When: the author's time, ISO 8601.
    public var time: String
    /// What it changed in the desired state, one line each (at most ``maxChanges``).
    public var changes: [String]
    /// The newest result the controller recorded for it (`converged`, `halted`, …); nil when it never applied it.
    public var result: String?
    /// The revert the controller committed for it, when it did.
    public var revert: String?
    /// The newer commit that stopped its rollout, when one did (its newest status is `superseded`).
    public var supersededBy: String?

    /// Lines of `changes` kept per commit: the page shows a summary; `pinwheel history` has them all.
    public static let maxChanges = 8

    public init(commit: String, summary: String, author: String, time: String, changes: [String], result: String?,
                revert: String? = nil, supersededBy: String? = nil) {
        self.commit = commit
        self.summary = summary
        self.author = author
        self.time = time
        self.changes = changes
        self.result = result
        self.revert = revert
        self.supersededBy = supersededBy
    }

    init(_ entry: EnvironmentHistory.Entry) {
        let changes = entry.changes.count > Self.maxChanges
            ? Array(entry.changes.prefix(Self.maxChanges - 1)) + ["… \(entry.changes.count - Self.maxChanges + 1) more"]
            : entry.changes
        self.init(commit: entry.commit, summary: entry.summary, author: entry.author.name, time: entry.author.time,
                  changes: changes, result: entry.applied.first?.result, revert: entry.applied.first { $0.revert != nil }?.revert,
                  supersededBy: entry.applied.first?.supersededBy)
    }
}
