import Foundation
import Logging
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Synchronization

/// How a status reaches git: the controller's one writer to the config repository. Commits each environment's
/// status to the status branch when it says something new (carrying quarantined commits forward), and commits the
/// reverts the policies ask for through ``ReleaseRevert`` — one at a time, pushed with a retry on the new tip when
/// someone else pushed first (``WatchedRepository``). Remembers the last status of each environment, read back from
/// the status branch after a restart through the one status reader (``StatusBranch/status(of:at:in:)``), or, with the
/// controller's status keys (`--status-signing-key`), only what the controller signed itself
/// (``StatusBranch/trustedStatus(of:at:in:verifier:limit:)``): a forged status is reported, never believed.
final class StatusPublisher: Sendable {
    private let statuses = Mutex<[String: EnvironmentStatus]>([:])
    /// Why an environment's newest status was not believed, for the page and the API, until a status of the
    /// controller's own replaces it.
    private let warnings = Mutex<[String: String]>([:])
    private let metrics: Mutex<ControllerMetrics>
    private let writes = WriteLock()
    private let logger: Logger
    /// Checks that a status read back was signed by the controller; nil: statuses are trusted unsigned.
    let verifier: StatusVerifier?
    /// With several controllers: the replica and lease epoch each status is recorded under, nil when this replica
    /// may no longer act on the environment (then nothing is published: the new owner records what it sees).
    private let stamp: (@Sendable (String) async -> LeaseStamp?)?

    init(metrics: ControllerMetrics, logger: Logger, verifier: StatusVerifier? = nil,
         stamp: (@Sendable (String) async -> LeaseStamp?)? = nil) {
        self.metrics = Mutex(metrics)
        self.logger = logger
        self.verifier = verifier
        self.stamp = stamp
    }

    /// Forgets what it remembers of `name`: another replica may have recorded statuses since (a takeover), so the
    /// next one is read back from the status branch.
    func forget(_ name: String) {
        statuses.withLock { $0[name] = nil }
    }

    /// Why `name`'s newest status on the status branch was not believed; nil when it was.
    func warning(of name: String) -> String? { warnings.withLock { $0[name] } }

    /// The last status published (or read back) for each environment.
    var all: [String: EnvironmentStatus] { statuses.withLock { $0 } }

    func status(of name: String) -> EnvironmentStatus? { statuses.withLock { $0[name] } }

    /// The newest status of `name`, read from the status branch the first time (after a restart): with a verifier,
    /// the newest one the controller signed, carrying every quarantine any status names.
    func latest(_ name: String, repository: WatchedRepository) async -> EnvironmentStatus? {
        if let known = status(of: name) { return known }
        let read = await readBack(name, repository: repository)
        statuses.withLock { $0[name] = $0[name] ?? read }
        return read
    }

    /// Replaces what it remembers of `name` with the newest status on the status branch (believed as after a
    /// restart): for an environment another replica owns, whose statuses this one never writes.
    func reread(_ name: String, repository: WatchedRepository) async {
        let read = await readBack(name, repository: repository)
        statuses.withLock { $0[name] = read }
    }

    private func readBack(_ name: String, repository: WatchedRepository) async -> EnvironmentStatus? {
        guard let verifier else { return try? repository.latestStatus(of: name) }
        let read: StatusBranch.TrustedRead?
        do {
            read = try await repository.trustedStatus(of: name, verifier: verifier)
        } catch {
            logger.error("cannot read the status branch: nothing is believed applied", metadata: ["env": "\(name)", "error": "\(error)"])
            return nil
        }
        guard let read else { return nil }
        if let warning = read.warning {
            warnings.withLock { $0[name] = warning }
            logger.log(.statusDisbelieved, .warning, "status not believed: \(warning)", [
                "env": "\(name)", "status": "\(read.disbelieved.first?.commit.short ?? "")",
                "believed": "\(read.commit?.short ?? "none")"])
        }
        // Nothing believed applied when nothing verifies, but every quarantine kept.
        return read.believed(name, time: Controller.now())
    }

    /// Commits `status` to the status branch when it says something new, one environment at a time.
    func publish(_ status: EnvironmentStatus, repository: WatchedRepository) async {
        var status = status
        if let stamp {
            guard let owner = await stamp(status.environment) else {
                logger.log(.statusNotRecorded, .warning, "not recording the status: this replica no longer holds the environment's lease",
                           ["env": "\(status.environment)", "summary": "\(status.summary)"])
                return
            }
            status.owner = owner
        }
        metrics.withLock { $0.observed(status) }
        await writes.acquire()
        await write(status, repository: repository)
        await writes.release()
    }

    private func write(_ status: EnvironmentStatus, repository: WatchedRepository) async {
        var status = status
        let previous = await latest(status.environment, repository: repository)
        // Quarantined commits are carried forward, the newest last, at most 100.
        var quarantined = previous?.quarantined ?? []
        for commit in status.quarantined where !quarantined.contains(commit) {
            quarantined.append(commit)
        }
        status.quarantined = Array(quarantined.suffix(100))
        if let previous = self.status(of: status.environment), previous.saysTheSame(as: status) {
            return
        }
        do {
            let commit = try await repository.writeStatus(status)
            statuses.withLock { $0[status.environment] = status }
            if verifier != nil { warnings.withLock { $0[status.environment] = nil } }
            logger.log(.statusCommitted, .info, "status committed", [
                "env": "\(status.environment)", "status": "\(commit.short)", "result": "\(status.result.rawValue)",
                "commit": "\(status.desired)", "summary": "\(status.summary)"])
        } catch let fenced as StatusFenced {
            // The new owner records what it sees; what this replica remembers is stale from now on.
            statuses.withLock { $0[status.environment] = nil }
            logger.log(.statusNotRecorded, .warning, "not recording the status: a later owner recorded one", [
                "env": "\(status.environment)", "owner": "\(fenced.recorded.replica)", "epoch": "\(fenced.recorded.epoch)"])
        } catch {
            logger.log(.statusFailed, .error, "could not commit the status", ["env": "\(status.environment)", "error": "\(error)"])
        }
    }

    /// Records that the config at `commit` is not valid for `name` (nothing applied), with its diagnostics.
    func publishInvalid(_ name: String, commit: ObjectID, diagnostics: [Diagnostic], applied: ObjectID?,
                        repository: WatchedRepository) async {
        logger.log(.configInvalid, .error, "invalid config: nothing applied", ["env": "\(name)", "commit": "\(commit.short)",
                                                                   "errors": "\(diagnostics.count)"])
        for diagnostic in diagnostics.prefix(20) {
            logger.error("\(diagnostic)", metadata: ["env": "\(name)"])
        }
        await publish(.invalid(name, commit: commit, diagnostics: diagnostics, applied: applied, previous: status(of: name)),
                      repository: repository)
    }

    /// Commits the revert of the commit that last changed `environment` as of `commit` (what a halted rollout
    /// applied), so git again says what the fleet runs. Nil when nothing was committed: no such commit, or the
    /// revert does not apply or would leave the environment invalid (validated before the branch moves).
    func revert(_ environment: String, appliedAt commit: ObjectID, halt: RevertMessage.Halt,
                repository: WatchedRepository, log: Logger) async -> ObjectID? {
        let path = "\(ConfigLoader.environmentsFolder)/\(environment)"
        let offending: CommitInfo
        do {
            guard let found = try repository.repository.history(of: path, from: commit, limit: 1).first else {
                log.error("nothing to revert: no commit changed the environment")
                return nil
            }
            offending = found
        } catch {
            log.error("could not revert the release", metadata: ["error": "\(error)"])
            return nil
        }
        await writes.acquire()
        var revert: ObjectID?
        do {
            revert = try await repository.revert(ReleaseRevert(environment: environment, target: offending, halt: halt))
            log.log(.reverted, .warning, "reverted the release", ["reverted": "\(offending.id.short)", "revert": "\(revert?.short ?? "")"])
        } catch {
            log.error("could not revert the release: nothing was committed", metadata: ["error": "\(error)"])
        }
        await writes.release()
        return revert
    }
}
