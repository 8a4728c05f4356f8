import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the changes to an environment, newest first, with what the controller recorded for each.",
        discussion: """
            For auditors: every commit on the branch that changed Environments/<env>/ or the policy file it \
            uses (Policies/<policy>.yaml, named at the branch tip), with its author, committer, summary, what it \
            changed in the desired state, and each status the controller committed for it on the status branch \
            (when applied, result, healthy hosts).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The config repository (a git repository).", valueName: "path"))
    var repo: String = "."

    @Option(name: .long, help: ArgumentHelp("The branch (or any revision) to read (default: the current branch).", valueName: "branch"))
    var branch: String?

    @Option(name: .long, help: ArgumentHelp("The status branch.", valueName: "branch"))
    var statusBranch: String = EnvironmentStatus.defaultBranch

    @Option(name: .long, help: ArgumentHelp("At most this many changes.", valueName: "n"))
    var limit: Int = 20

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let repository = try GitSupport.open(repo)
        let revision = try branch ?? repository.currentBranch() ?? "HEAD"
        let tip = try wrapUsage { try repository.resolve(revision) }

        let folder = "\(ConfigLoader.environmentsFolder)/\(environment)"
        var commits = try repository.history(of: folder, from: tip, limit: limit)
        // The policy the environment uses now: its changes are changes to the environment too.
        if let policy = try GitSupport.load(environment, in: repository, at: tip).environment?.policy.name {
            let policyCommits = try repository.history(of: "\(ConfigLoader.policiesFolder)/\(policy).yaml", from: tip, limit: limit)
            commits = HistoryMerge.merge(commits, policyCommits, limit: limit)
        }
        let records = try statusRecords(repository)

        var entries: [Entry] = []
        let cache = LoadCache(repository: repository, environment: environment)
        for commit in commits {
            let after = try cache.loaded(commit.id)
            var before = GitSupport.Loaded.missing
            if let parent = commit.parents.first { before = try cache.loaded(parent) }
            var changes: [String]
            switch (before, after) {
            case (.invalid, _), (_, .invalid):
                changes = []
                if case .invalid = before { changes.append("before: invalid config") }
                if case .invalid = after { changes.append("after: invalid config") }
            default:
                changes = EnvironmentDiff.changes(from: before.environment, to: after.environment)
                if changes.isEmpty { changes = ["no change to the desired state"] }
            }
            entries.append(Entry(
                commit: commit.id.hex, summary: commit.summary,
                author: Person(commit.author), committer: Person(commit.committer),
                changes: changes,
                applied: (records[commit.id.hex] ?? []).map(Applied.init)))
        }

        if json {
            print(try JSON.string(Output(environment: environment, branch: revision, entries: entries)))
            return
        }
        if entries.isEmpty {
            print("\(environment): no change on \(revision)")
            return
        }
        for (index, entry) in entries.enumerated() {
            if index > 0 { print("") }
            print("\(entry.commit.prefix(10))  \(entry.summary)")
            print("  author:    \(entry.author.name) <\(entry.author.email)> \(entry.author.time)")
            if entry.committer != entry.author {
                print("  committer: \(entry.committer.name) <\(entry.committer.email)> \(entry.committer.time)")
            }
            for change in entry.changes { print("  - \(change)") }
            if entry.applied.isEmpty {
                print("  applied:   not recorded on \(statusBranch)")
            }
            for applied in entry.applied {
                var line = "  applied:   \(applied.time)  \(applied.result)"
                if let healthy = applied.healthyHosts, let hosts = applied.hosts { line += "  \(healthy)/\(hosts) hosts" }
                if let revert = applied.revert { line += "  reverted by \(revert.prefix(10))" }
                print(line)
            }
        }
    }

    /// Every status commit for this environment, by the desired commit it names, newest first: one walk.
    private func statusRecords(_ repository: Repository) throws -> [String: [(CommitInfo, StatusRecord)]] {
        guard let tip = try StatusBranch.tip(repository, branch: statusBranch)?.tip else { return [:] }
        var records: [String: [(CommitInfo, StatusRecord)]] = [:]
        for commit in try repository.history(of: EnvironmentStatus.path(of: environment), from: tip) {
            guard let record = StatusRecord.parse(summary: commit.summary, trailers: commit.trailers.map { ($0.key, $0.value) }),
                  record.environment == environment else { continue }
            records[record.desired, default: []].append((commit, record))
        }
        return records
    }

    struct Output: Encodable {
        var environment: String
        var branch: String
        var entries: [Entry]
    }

    struct Entry: Encodable {
        var commit: String
        var summary: String
        var author: Person
        var committer: Person
        var changes: [String]
        var applied: [Applied]
    }

    struct Person: Encodable, Equatable {
        var name: String
        var email: String
        var time: String

        init(_ signature: Signature) {
            name = signature.name
            email = signature.email
            time = GitSupport.time(signature)
        }
    }

    struct Applied: Encodable {
        var statusCommit: String
        var time: String
        var result: String
        var healthyHosts: Int?
        var hosts: Int?
        var revert: String?

        init(_ pair: (CommitInfo, StatusRecord)) {
            statusCommit = pair.0.id.hex
            time = GitSupport.time(pair.0.committer)
            result = pair.1.result
            healthyHosts = pair.1.healthyHosts
            hosts = pair.1.hosts
            revert = pair.1.revert
        }
    }
}

/// The environment at each commit, each loaded once.
private final class LoadCache {
    let repository: Repository
    let environment: String
    var values: [ObjectID: GitSupport.Loaded] = [:]

    init(repository: Repository, environment: String) {
        self.repository = repository
        self.environment = environment
    }

    func loaded(_ id: ObjectID) throws -> GitSupport.Loaded {
        if let hit = values[id] { return hit }
        let value = try GitSupport.load(environment, in: repository, at: id)
        values[id] = value
        return value
    }
}

/// Merges two newest-first commit lists without duplicates, newest first, at most `limit`.
enum HistoryMerge {
    static func merge(_ a: [CommitInfo], _ b: [CommitInfo], limit: Int) -> [CommitInfo] {
        var seen = Set<ObjectID>()
        let all = (a + b).filter { seen.insert($0.id).inserted }
        // Stable: ties keep the walk's order.
        let indexed: [(offset: Int, commit: CommitInfo)] = all.enumerated().map { ($0.offset, $0.element) }
        let sorted = indexed.sorted { (x: (offset: Int, commit: CommitInfo), y: (offset: Int, commit: CommitInfo)) -> Bool in
            if x.commit.committer.date != y.commit.committer.date {
                return x.commit.committer.date > y.commit.committer.date
            }
            return x.offset < y.offset
        }.map { $0.commit }
        return Array(sorted.prefix(limit))
    }
}
