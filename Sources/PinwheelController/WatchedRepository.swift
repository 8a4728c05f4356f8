import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit
import PinwheelReleases

/// The config repository as the controller sees it: a bare cache clone kept current by fetching, from which
/// commits are read without a work tree, and through which the controller writes back (status, reverts).
public final class WatchedRepository: @unchecked Sendable {
    public let url: String
    public let branch: String
    public let statusBranch: String
    public let repository: Repository
    let remote: RemoteOptions
    let author: Signature
    /// Signs every status commit (`--status-signing-key`); nil: statuses are committed unsigned.
    let signer: StatusSigner?
    /// How many times a push rejected because someone else pushed first is rebuilt on the new tip and retried: with
    /// several controllers (and people) writing to the same branches, a few lost races in a row happen.
    let pushAttempts = 8

    /// Opens the cache at `cache`, or clones `url` there (bare) when there is none yet.
    public static func open(url: String, branch: String, statusBranch: String, cache: String,
                            remote: RemoteOptions, author: Signature, signer: StatusSigner? = nil) async throws -> WatchedRepository {
        let repository: Repository
        if FileManager.default.fileExists(atPath: cache + "/HEAD") {
            repository = try Repository(openingAt: cache)
            if try repository.remoteURL("origin") != url {
                try repository.setRemote("origin", url: url)
            }
        } else {
            try FileManager.default.createDirectory(atPath: (cache as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            repository = try await Repository.clone(from: url, to: cache, bare: true, options: remote)
        }
        return WatchedRepository(url: url, branch: branch, statusBranch: statusBranch, repository: repository,
                                 remote: remote, author: author, signer: signer)
    }

    /// The controller's cache clone, as its configuration says.
    static func open(_ configuration: ControllerConfiguration) async throws -> WatchedRepository {
        try await open(url: configuration.repository, branch: configuration.branch, statusBranch: configuration.statusBranch,
                       cache: configuration.cacheDirectory, remote: configuration.remote,
                       author: Signature(name: configuration.authorName, email: configuration.authorEmail),
                       signer: configuration.statusSigningKey.map { StatusSigner(key: $0) })
    }

    init(url: String, branch: String, statusBranch: String, repository: Repository, remote: RemoteOptions, author: Signature,
         signer: StatusSigner? = nil) {
        self.url = url
        self.branch = branch
        self.statusBranch = statusBranch
        self.repository = repository
        self.remote = remote
        self.author = author
        self.signer = signer
    }

    private var branchRef: String { "refs/remotes/origin/\(branch)" }
    private var statusRef: String { "refs/remotes/origin/\(statusBranch)" }

    /// Fetches, and returns the branch's tip. A fetch where nothing changed costs one round trip to the remote.
    @discardableResult
    public func fetch() async throws -> ObjectID {
        _ = try await repository.fetch(remote: "origin", options: remote)
        return try tip()
    }

    /// Pack files in the cache beyond which ``compactIfNeeded()`` merges them (each fetch that brings something adds
    /// one).
    static let packLimit = 16

    /// Merges the cache's packs into one when there are more than ``packLimit``, so a controller that runs for
    /// months holds a bounded number of open descriptors and mapped pack indexes. Returns how many packs it merged,
    /// nil when there was nothing to do.
    @discardableResult
    public func compactIfNeeded() throws -> Int? {
        guard repository.packFileCount() > Self.packLimit else { return nil }
        return try repository.compactObjects()
    }

    /// The branch's tip as last fetched.
    public func tip() throws -> ObjectID {
        guard let tip = try repository.referenceTarget(branchRef) else {
            throw GitError(.notFound, "the remote has no branch \(branch)", hint: "check --branch")
        }
        return tip
    }

    public func source(at commit: ObjectID) -> CommitConfigSource {
        CommitConfigSource(repository: repository, commit: commit)
    }

    public func commitInfo(_ commit: ObjectID) throws -> CommitInfo {
        try repository.commitInfo(commit)
    }

    /// The newest status the status branch holds for `environment`, whoever wrote it.
    public func latestStatus(of environment: String) throws -> EnvironmentStatus? {
        guard let tip = try repository.referenceTarget(statusRef) else { return nil }
        return try StatusBranch.status(of: environment, at: tip, in: repository)
    }

    /// What the controller may believe of `environment`'s status: the newest one signed by a key of `verifier`, with
    /// every quarantine of every status (see ``StatusBranch/trustedStatus(of:at:in:verifier:limit:)``); nil before
    /// the first status.
    public func trustedStatus(of environment: String, verifier: StatusVerifier) async throws -> StatusBranch.TrustedRead? {
        guard let tip = try repository.referenceTarget(statusRef) else { return nil }
        return try await StatusBranch.trustedStatus(of: environment, at: tip, in: repository, verifier: verifier)
    }

    /// The id of `environment`'s status file in the status branch's commit `tip`, nil when it has none: equal ids,
    /// the same status, so nothing to read again.
    public func statusFileID(of environment: String, at tip: ObjectID) -> ObjectID? {
        try? repository.treeID(of: EnvironmentStatus.path(of: environment), at: tip)
    }

    /// The status branch's tip as last fetched, nil before the first status.
    public func statusTip() throws -> ObjectID? {
        try repository.referenceTarget(statusRef)
    }

    /// The statuses of `environment` on the status branch as of `tip`, newest first, at most `limit`.
    public func statusHistory(of environment: String, at tip: ObjectID, limit: Int) throws -> [EnvironmentStatus] {
        try StatusBranch.statuses(of: environment, at: tip, in: repository, limit: limit)
    }

    /// Commits `status` to the status branch (signed with the controller's key when it has one) and pushes it. When
    /// someone else pushed first, fetches and commits again on the new tip, so both writers' commits survive. Throws
    /// ``StatusFenced`` when the status has an owner and a later owner recorded the environment's status since.
    @discardableResult
    public func writeStatus(_ status: EnvironmentStatus) async throws -> ObjectID {
        let file = FileChange.write(EnvironmentStatus.path(of: status.environment), Data(try status.yaml().utf8))
        return try await commitAndPush(branch: statusBranch, remoteRef: statusRef) {
            // The status branch's own fence: checked on every attempt against the tip just fetched, so a status of a
            // replica that lost its lease cannot land over the new owner's (a push racing the new owner's is
            // rejected, fetched, and checked again).
            if let stamp = status.owner, let recorded = try self.latestStatus(of: status.environment)?.owner,
               !stamp.mayFollow(recorded) {
                throw StatusFenced(environment: status.environment, stamp: stamp, recorded: recorded)
            }
            if let signer = self.signer {
                return try await self.repository.signedCommit(changes: [file], onBranch: self.statusBranch,
                                                              message: status.commitMessage, author: self.signature(),
                                                              sign: signer.sign)
            }
            return try self.repository.commit(changes: [file], onBranch: self.statusBranch, message: status.commitMessage,
                                              author: self.signature())
        }
    }

    /// Commits `revert` on the branch and pushes it: made and validated on the remote's tip through ``ReleaseRevert``
    /// (the same path as `pinwheel rollback` and `apply --revert`), and made again on the new tip when someone pushed
    /// first. Nothing is pushed when the revert does not apply or would leave the environment invalid or removed.
    public func revert(_ revert: ReleaseRevert) async throws -> ObjectID {
        try await commitAndPush(branch: branch, remoteRef: branchRef) {
            let local = "refs/heads/\(self.branch)"
            guard let tip = try self.repository.referenceTarget(local) else {
                throw GitError(.notFound, "the remote has no branch \(self.branch)", hint: "check --branch")
            }
            let signature = self.signature()
            let validated = try revert.validated(in: self.repository, onto: tip, author: signature, committer: signature)
            try validated.move(local, in: self.repository, logMessage: "pinwheel: revert \(revert.target.id.short)")
            return validated.commit
        }
    }

    private func signature() -> Signature {
        Signature(name: author.name, email: author.email, date: Date())
    }

    private func commitAndPush(branch: String, remoteRef: String, make: () async throws -> ObjectID) async throws -> ObjectID {
        var rejection: GitError?
        for attempt in 0..<pushAttempts {
            if attempt > 0 {
                // Backing off, with jitter, so writers that raced do not race again in step.
                try? await Task.sleep(for: Self.backoff(attempt: attempt))
                _ = try await repository.fetch(remote: "origin", options: remote)
            }
            // Build on the remote's tip: the local branch is only a staging place for the push.
            try resetStagingBranch(branch, to: remoteRef)
            let commit = try await make()
            rejection = await push(branch)
            guard let error = rejection else {
                _ = try? await repository.fetch(remote: "origin", options: remote)
                return commit
            }
            guard error.code == .nonFastForward else { throw error }
        }
        throw rejection ?? GitError(.nonFastForward, "could not push \(branch)")
    }

    /// How long to wait before push attempt `attempt` (from 1): 50 ms doubling to at most 1.6 s, plus up to as much
    /// again at random.
    static func backoff(attempt: Int) -> Duration {
        let base = 50 << min(max(attempt - 1, 0), 5)
        return .milliseconds(base + Int.random(in: 0...base))
    }

    private func resetStagingBranch(_ branch: String, to remoteRef: String) throws {
        let local = "refs/heads/\(branch)"
        if let base = try repository.referenceTarget(remoteRef) {
            try repository.setReference(local, to: base, logMessage: "pinwheel: start from origin/\(branch)")
        } else if try repository.referenceTarget(local) != nil, branch != self.branch {
            try repository.deleteReference(local)
        }
    }

    /// Pushes `branch`; the error when it was refused.
    private func push(_ branch: String) async -> GitError? {
        do {
            try await repository.push(branch: branch, to: "origin", options: remote)
            return nil
        } catch {
            return error
        }
    }
}
