import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet
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
                      trusted: TrustedKeys, allowHistoryRewrite: Bool) async throws -> ApplyAdmission {
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
        if let repository {
            do {
                status = try RecordedStatus.read(desired.name, in: repository, branch: statusBranch).status
            } catch let error as OperationError where error.code == .notFound {
                status = nil
            } catch let error as OperationError {
                StandardError.write("pinwheel: \(error.message)")
                throw ExitCode.failure
            }
        }
        let lastApplied = repository.flatMap { AdmissionGatherer.lastApplied(desired.name, status: status, in: $0) }
        let statusRepository = repository
        let gatherer = AdmissionGatherer(trusted: trusted, allowHistoryRewrite: allowHistoryRewrite)
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

/// `apply --json`'s line when admission holds the commit back: the machine-readable verdict.
struct ApplyHeld: Encodable {
    var v = ApplyEventLine.version
    var event = "apply.held"
    var environment: String
    var commit: String?
    /// `wait` or `refuse`.
    var decision: String
    /// The ``AdmissionReason`` code of the first rule that holds it.
    var reason: String
    /// Every rule that holds it.
    var reasons: [String]
    var message: String
    /// Whether `--override` applies it anyway.
    var overridden: Bool

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"v":1,"event":"apply.held"}"#
    }
}

extension Apply {
    /// Who overrides admission, resolved before any host is touched.
    struct Overriding {
        var repository: Repository
        var commit: ObjectID
        var author: Signature
        var committer: Signature
    }

    /// Acts on admission's verdict before any host is touched: nothing when it applies; otherwise exit 1 saying why,
    /// or, with `--override`, who overrides it (an override that cannot be recorded in git is refused).
    func admit(_ admission: ApplyAdmission, lines: JSONLines?, quiet: Bool) throws -> Overriding? {
        let verdict = admission.verdict
        if !quiet, !admission.uncommitted.isEmpty {
            StandardError.write("apply: judged \(admission.judged)")
        }
        guard let reason = verdict.reason else {
            if overrideReason != nil, !quiet {
                StandardError.write("apply: nothing to override: admission lets \(environment) through; no override recorded")
            }
            return nil
        }
        let word = verdict.decision == .wait ? "waits" : "is refused"
        if let lines {
            lines.write(ApplyHeld(environment: environment, commit: admission.commit?.hex, decision: verdict.decision.rawValue,
                                  reason: reason.rawValue, reasons: admission.holds.compactMap(\.reason?.rawValue),
                                  message: verdict.message, overridden: overrideReason != nil).json())
        }
        guard let overrideReason else {
            // With --json the apply.held line says it all: standard error stays empty, as for every --json run.
            if lines == nil {
                StandardError.write("pinwheel: \(environment) \(word) (\(reason.rawValue)): \(verdict.message)")
                StandardError.write("pinwheel: nothing was done; --override REASON applies it anyway and records that on \(statusBranch)")
            }
            throw ExitCode.failure
        }
        guard let repository = admission.repository, let commit = admission.commit else {
            throw UsageError("--override is recorded on the status branch of --repo, and \(self.repository.repo) is no git "
                + "repository with a commit; nothing was done")
        }
        let (author, committer) = try GitSupport.reporting { try CommitIdentity.resolve(repository) }
        if !quiet {
            StandardError.write("apply: overriding \(admission.holds.compactMap(\.reason?.rawValue).joined(separator: ", ")) "
                + "(\(verdict.message)) as \(author.name) <\(author.email)>: \(overrideReason)")
        }
        return Overriding(repository: repository, commit: commit, author: author, committer: committer)
    }

    /// Records the override in a status commit on the status branch: what the hosts now run, and who set which rule
    /// aside, and why.
    func record(_ overriding: Overriding, desired: Environment, admission: ApplyAdmission, report: ReconcileReport) throws {
        var errors = report.unreachable
        errors.merge(report.outcome.failures) { first, _ in first }
        var message = report.outcome.message
        if !admission.uncommitted.isEmpty {
            message += " (applied from the work tree, with uncommitted changes on top of \(overriding.commit.short))"
        }
        var status = EnvironmentStatus(environment: desired, commit: overriding.commit.hex, result: report.outcome.result,
                                       message: message, time: ISO8601DateFormatter().string(from: Date()),
                                       observations: report.observations, errors: errors)
        status.applied = overriding.commit.hex
        status.quarantined = admission.status?.quarantined ?? []
        status.override = AdmissionOverride(reason: overrideReason ?? "", by: "\(overriding.author.name) <\(overriding.author.email)>",
                                            overrode: admission.holds.compactMap(\.reason), message: admission.verdict.message)
        let recorded = try GitSupport.reporting {
            do {
                return try StatusBranch.record(status, in: overriding.repository, branch: statusBranch,
                                               author: overriding.author, committer: overriding.committer)
            } catch {
                throw OperationError(.failed, "the override was applied but could not be recorded on \(statusBranch): \(error)")
            }
        }
        if json {
            StandardError.write("apply: override recorded on \(statusBranch) as \(recorded.hex)")
        } else {
            print("apply: override recorded on \(statusBranch) as \(recorded.hex) (push it: git push origin \(statusBranch))")
        }
    }
}
