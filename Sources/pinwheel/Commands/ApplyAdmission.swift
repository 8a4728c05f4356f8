import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit
import PinwheelReleases

/// What `apply` judges before it touches a host: the controller's admission (``Admission``), from facts gathered
/// by the same ``AdmissionGatherer``, so apply refuses (or holds) what `watch` would.
struct ApplyAdmission {
    /// The repository the config and the status branch are read from; nil when `--repo` is no git repository.
    var repository: Repository?
    /// The commit judged: `--rev`'s, or HEAD's for the files on disk.
    var commit: ObjectID?
    /// Config paths changed in the work tree on top of HEAD (without `--rev`).
    var uncommitted: [String]
    /// The status last recorded for the environment (its quarantine list and last applied commit).
    var status: EnvironmentStatus?
    var verdict: AdmissionVerdict
    /// Every rule that holds the commit back, in admission's order (what an override overrides).
    var holds: [AdmissionVerdict]

    /// Gathers the facts for applying `desired` from `source` and decides.
    static func judge(_ desired: Environment, source: any ConfigSource, options: RepositoryOptions, statusBranch: String,
                      trusted: TrustedKeys, allowHistoryRewrite: Bool, statusVerifier: StatusVerifier? = nil,
                      quiet: Bool = false) async throws -> ApplyAdmission {
        var repository: Repository?
        var commit: ObjectID?
        var uncommitted: [String] = []
        if let source = source as? CommitConfigSource {
            repository = source.repository
            commit = source.commit
        } else if let opened = try? Repository(openingAt: options.repo) {
            repository = opened
            // An unborn HEAD (no commit yet) leaves nothing to judge but the files.
            commit = try? opened.resolve("HEAD")
            if commit != nil {
                uncommitted = try GitSupport.reporting {
                    try opened.uncommittedChanges(in: [ConfigLoader.environmentsFolder, ConfigLoader.policiesFolder])
                }
            }
        }
        var status: EnvironmentStatus?
        if let repository, let statusVerifier {
            // Only statuses the controller's key signed are believed; every quarantine of every status is kept.
            let read = try await GitSupport.reporting { () async throws -> StatusBranch.TrustedRead? in
                guard let tip = try StatusBranch.tip(repository, branch: statusBranch)?.tip else { return nil }
                return try await StatusBranch.trustedStatus(of: desired.name, at: tip, in: repository, verifier: statusVerifier)
            }
            if let warning = read?.warning, !quiet {
                StandardError.write("apply: \(desired.name): \(warning)")
            }
            status = read?.believed(desired.name, time: Timestamp.string(from: Date()))
        } else if let repository {
            do {
                status = try RecordedStatus.read(desired.name, in: repository, branch: statusBranch).status
            } catch let error as OperationError where error.code == .notFound {
                status = nil
            } catch let error as OperationError {
                throw ExitError.failed(error.message)
            }
        }
        let lastApplied = repository.flatMap { AdmissionGatherer.lastApplied(desired.name, status: status, in: $0) }
        let statusRepository = repository
        let gatherer = AdmissionGatherer(trusted: trusted, allowHistoryRewrite: allowHistoryRewrite, statusVerifier: statusVerifier)
        let facts = await gatherer.facts(for: desired, commit: commit, uncommitted: uncommitted, lastApplied: lastApplied,
                                         quarantined: status?.quarantined ?? [], in: repository,
                                         statusTip: { try statusRepository.flatMap { try StatusBranch.tip($0, branch: statusBranch)?.tip } },
                                         now: Date())
        return ApplyAdmission(repository: repository, commit: commit, uncommitted: uncommitted, status: status,
                              verdict: Admission.decide(facts), holds: Admission.holds(facts))
    }

    /// What was judged, for a person: the commit, and that the work tree's changes are not one.
    var judged: String {
        guard let commit else { return "the files on disk (not a git repository: no commit to judge)" }
        if uncommitted.isEmpty { return commit.hex }
        return "HEAD \(commit.short) with uncommitted changes to \(uncommitted.count) file\(uncommitted.count == 1 ? "" : "s") "
            + "(quarantine and history judge HEAD; the changes themselves are no commit)"
    }
}
