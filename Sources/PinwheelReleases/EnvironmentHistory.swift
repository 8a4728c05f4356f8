import Foundation
import PinwheelCore
import PinwheelGit

/// The changes to an environment, newest first, each with what the controller recorded for it: every commit
/// that changed `Environments/<env>/` or the policy file it uses (named at the tip), with what it changed in
/// the desired state, and each status the controller committed for it on the status branch.
public struct EnvironmentHistory: Encodable, Sendable {
    public var environment: String
    /// The revision read (a branch name, or what was asked for).
    public var branch: String
    public var entries: [Entry]

    /// One commit.
    public struct Entry: Encodable, Sendable {
        public var commit: String
        public var summary: String
        public var author: Person
        public var committer: Person
        /// What it changed in the desired state, one line each.
        public var changes: [String]
        /// What the controller recorded for it, newest first.
        public var applied: [Applied]
        /// Who approved it, as far as its message says.
        public var approvals: Approvals
        /// Its signature's state; nil until ``checkSignatures(with:in:)``.
        public var signature: SignatureReport?
    }

    /// A commit's signature state, for people and for JSON.
    public struct SignatureReport: Encodable, Sendable {
        /// good, unsigned, untrusted, restricted, bad, unsupported or unchecked.
        public var state: String
        /// The same in a sentence, with the signer or the key.
        public var detail: String
        /// The signer the allowed-signers file names, for a good signature.
        public var principal: String?

        public init(_ state: SignatureState) {
            self.state = state.word
            detail = state.description
            if case let .good(principal, _) = state { self.principal = principal }
        }
    }

    public struct Person: Encodable, Equatable, Sendable {
        public var name: String
        public var email: String
        /// ISO 8601, in the signature's own time zone.
        public var time: String

        init(_ signature: Signature) {
            name = signature.name
            email = signature.email
            time = signature.iso8601
        }

        /// `Name <email>`.
        public var identity: String { "\(name) <\(email)>" }
    }

    /// One status the controller committed for a commit.
    public struct Applied: Encodable, Sendable {
        public var statusCommit: String
        public var time: String
        public var result: String
        public var healthyHosts: Int?
        public var hosts: Int?
        /// The revert the controller committed, when it reverted this commit.
        public var revert: String?
        /// Why, for a status that did not converge (refused, waiting, invalid, halted, degraded): the status
        /// commit's message.
        public var reason: String?
        /// The status's reason code: a held status's admission code (`windowClosed`), a halted or degraded one's
        /// failure code (`health`, `install`, `unreachable`).
        public var code: String?
        /// The step the failure code is about (`check B`), when the status records one.
        public var step: String?
        /// The override a person gave to apply it anyway (`apply --override`).
        public var override: StatusRecord.Override?

        init(_ commit: CommitInfo, _ record: StatusRecord) {
            statusCommit = commit.id.hex
            time = commit.committer.iso8601
            result = record.result
            healthyHosts = record.healthyHosts
            hosts = record.hosts
            revert = record.revert
            code = record.reason
            step = record.reasonStep
            override = record.override
            if !["converged", "progressing"].contains(record.result) {
                reason = Self.reason(in: commit.message)
            }
        }

        /// The paragraph after the summary of a status commit's message (``EnvironmentStatus/commitMessage``).
        static func reason(in message: String) -> String? {
            let paragraphs = message.components(separatedBy: "\n\n")
            guard paragraphs.count > 2 else { return nil }
            let text = paragraphs[1].trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty || text.hasPrefix("Pinwheel-") ? nil : text
        }
    }

    /// Reads the history of `environment` on `revision` (by default the checked-out branch, else HEAD), at most
    /// `limit` commits, only those committed at `since` or later when it is given.
    ///
    /// - Throws: ``OperationError/Code/usage`` when `revision` does not resolve, or the repository's own errors.
    public static func read(_ environment: String, in repository: Repository, revision: String? = nil,
                            statusBranch: String = EnvironmentStatus.defaultBranch, limit: Int = 20,
                            since: Date? = nil) throws -> EnvironmentHistory {
        let revision = try revision ?? repository.currentBranch() ?? "HEAD"
        let tip: ObjectID
        do {
            tip = try repository.resolve(revision)
        } catch {
            throw OperationError(.usage, "\(error)")
        }
        let folder = "\(ConfigLoader.environmentsFolder)/\(environment)"
        var commits = try repository.history(of: folder, from: tip, limit: limit)
        let cache = LoadCache(repository: repository, environment: environment)
        // The policy the environment uses now: its changes are changes to the environment too.
        if let policy = try cache.loaded(tip).environment?.policy.name {
            let policyCommits = try repository.history(of: "\(ConfigLoader.policiesFolder)/\(policy).yaml", from: tip, limit: limit)
            commits = merge(commits, policyCommits, limit: limit)
        }
        let records = try statusRecords(environment, in: repository, statusBranch: statusBranch)

        var entries: [Entry] = []
        if let since {
            commits = commits.filter { $0.committer.date >= since }
        }
        for commit in commits {
            let after = try cache.loaded(commit.id)
            var before = EnvironmentAtCommit.missing
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
                applied: (records[commit.id.hex] ?? []).map { Applied($0.commit, $0.record) },
                approvals: Approvals.parse(message: commit.message, isMerge: commit.parents.count > 1,
                                           committer: Person(commit.committer).identity,
                                           author: Person(commit.author).identity)))
        }
        return EnvironmentHistory(environment: environment, branch: revision, entries: entries)
    }

    /// Every status commit for `environment`, by the desired commit it names, newest first: one walk.
    static func statusRecords(_ environment: String, in repository: Repository,
                              statusBranch: String) throws -> [String: [(commit: CommitInfo, record: StatusRecord)]] {
        guard let tip = try StatusBranch.tip(repository, branch: statusBranch)?.tip else { return [:] }
        var records: [String: [(commit: CommitInfo, record: StatusRecord)]] = [:]
        for commit in try repository.history(of: EnvironmentStatus.path(of: environment), from: tip) {
            guard let record = StatusRecord.parse(summary: commit.summary, trailers: commit.trailers.map { ($0.key, $0.value) }),
                  record.environment == environment else { continue }
            records[record.desired, default: []].append((commit, record))
        }
        return records
    }

    /// Merges two newest-first commit lists without duplicates, newest first (by committer date; ties keep
    /// the walks' order), at most `limit`.
    static func merge(_ a: [CommitInfo], _ b: [CommitInfo], limit: Int) -> [CommitInfo] {
        var seen = Set<ObjectID>()
        let all = (a + b).filter { seen.insert($0.id).inserted }
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

/// The environment at each commit, each loaded once.
private final class LoadCache {
    let repository: Repository
    let environment: String
    var values: [ObjectID: EnvironmentAtCommit] = [:]

    init(repository: Repository, environment: String) {
        self.repository = repository
        self.environment = environment
    }

    func loaded(_ id: ObjectID) throws -> EnvironmentAtCommit {
        if let hit = values[id] { return hit }
        let value = try EnvironmentAtCommit.load(environment, in: repository, at: id)
        values[id] = value
        return value
    }
}
