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
        /// True for a commit the controller applied that is no longer on the branch (a force-push or a rebase
        /// removed it): found from the status branch's records, so no deployment drops out of the audit.
        public var rewrittenAway: Bool = false
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

        init(name: String, email: String, time: String) {
            self.name = name
            self.email = email
            self.time = time
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
        /// Whether the status commit is signed by a trusted status key (`--status-signing-key`'s `.pub`,
        /// `--trusted-status-key`): verified, unsigned, untrusted, bad or unreadable; nil when no status key was
        /// given (statuses are not checked).
        public var statusSignature: String?
        /// The same in a sentence, with the key.
        public var statusSignatureDetail: String?
        /// True only for a status the controller's key signed; nil when not checked.
        public var verified: Bool?
        /// The newer commit that stopped this commit's rollout (`superseded`), and the hosts it had switched by then.
        public var supersededBy: String?
        public var switched: [String]?
        /// Each bake's verdict, one line per stage (`bake:`, `analysis:` in the policy).
        public var analysis: [String]?
        /// With several controllers: the replica that recorded it and its lease epoch, so a takeover shows.
        public var owner: LeaseStamp?

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
            supersededBy = record.supersededBy
            switched = record.switched
            analysis = record.analysis.isEmpty ? nil : record.analysis
            owner = record.owner
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
        // The branch's commits and the applied ones it lost, newest first (ties keep the branch's order first).
        var dated = zip(commits, entries).map { (date: $0.committer.date, entry: $1) }
        // When the branch's list was cut at `limit`, an entry older than its oldest commit would be cut too: those
        // records need no walk to learn whether the branch still has them.
        let cutoff = commits.count >= limit ? commits.last?.committer.date : nil
        dated += try rewrittenAway(records, in: repository, tip: tip, listed: Set(commits.map(\.id.hex)), since: since,
                                   olderThanShown: cutoff)
        let ordered = dated.enumerated().sorted { x, y in
            x.element.date != y.element.date ? x.element.date > y.element.date : x.offset < y.offset
        }
        entries = ordered.prefix(limit).map(\.element.entry)
        return EnvironmentHistory(environment: environment, branch: revision, entries: entries)
    }

    /// The commits the controller applied (a status with a result that reached hosts: converged, progressing,
    /// degraded, halted, superseded) that the branch no longer has: a force-push or a rebase took them out of its history, but
    /// the hosts ran them, so the audit keeps them. The commit's author and summary when the repository still has
    /// the object (a cache clone does), else what the status records say.
    ///
    /// `olderThanShown`: entries dated before it are not shown anyway, so the walk that tells whether the branch
    /// still has their commit is skipped.
    static func rewrittenAway(_ records: [String: [(commit: CommitInfo, record: StatusRecord)]], in repository: Repository,
                              tip: ObjectID, listed: Set<String>, since: Date?,
                              olderThanShown: Date? = nil) throws -> [(date: Date, entry: Entry)] {
        let appliedResults: Set<String> = ["converged", "progressing", "degraded", "halted", "superseded"]
        var entries: [(date: Date, entry: Entry)] = []
        for (desired, statuses) in records where !listed.contains(desired) {
            guard statuses.contains(where: { appliedResults.contains($0.record.result) }),
                  let id = ObjectID(hex: desired), let newest = statuses.first else { continue }
            if let since, newest.commit.committer.date < since { continue }
            // Placed where it was first applied in time (its own commit date when the repository still has it).
            let commit = repository.contains(id) ? try? repository.commitInfo(id) : nil
            let date = commit?.committer.date ?? statuses.last?.commit.committer.date ?? newest.commit.committer.date
            if let olderThanShown, date < olderThanShown { continue }
            let onBranch = id == tip || commit != nil && ((try? repository.isDescendant(tip, of: id)) ?? false)
            if onBranch { continue }
            let applied = statuses.map { Applied($0.commit, $0.record) }
            var entry: Entry
            if let commit {
                entry = Entry(commit: desired, summary: commit.summary, author: Person(commit.author), committer: Person(commit.committer),
                              changes: [], applied: applied,
                              approvals: Approvals.parse(message: commit.message, isMerge: commit.parents.count > 1,
                                                         committer: Person(commit.committer).identity, author: Person(commit.author).identity))
            } else {
                let unknown = Person(name: "unknown", email: "", time: newest.commit.committer.iso8601)
                entry = Entry(commit: desired, summary: "(no longer in this repository)", author: unknown, committer: unknown,
                              changes: [], applied: applied,
                              approvals: Approvals.parse(message: "", isMerge: false, committer: "", author: ""))
            }
            entry.changes = ["rewritten away: no longer on the branch, the status branch records it was applied"]
            entry.rewrittenAway = true
            entries.append((date, entry))
        }
        return entries
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
