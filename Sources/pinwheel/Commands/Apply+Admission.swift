import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelEngine
import PinwheelFleet
import PinwheelGit
import PinwheelReleases

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
            throw ExitError.failed
        }
        guard let repository = admission.repository, let commit = admission.commit else {
            throw ExitError.usage("--override is recorded on the status branch of --repo, and \(self.repository.repo) is no git "
                + "repository with a commit; nothing was done")
        }
        let (author, committer) = try GitSupport.reporting { try CommitIdentity.resolve(repository) }
        if !quiet {
            StandardError.write("apply: overriding \(admission.holds.compactMap(\.reason?.rawValue).joined(separator: ", ")) "
                + "(\(verdict.message)) as \(author.name) <\(author.email)>: \(overrideReason)")
        }
        return Overriding(repository: repository, commit: commit, author: author, committer: committer)
    }

    /// The verifier of the statuses read (`--status-signing-key`'s `.pub`, `--trusted-status-key`); nil without them.
    func statusVerifier() throws -> StatusVerifier? {
        guard statusKeys.verifies else { return nil }
        do {
            return try StatusVerifier(publicKeys: statusKeys.publicKeys)
        } catch {
            throw ExitError.usage("\(error)")
        }
    }

    /// Records the override in a status commit on the status branch: what the hosts now run, and who set which rule
    /// aside, and why.
    func record(_ overriding: Overriding, desired: Environment, admission: ApplyAdmission, report: ReconcileReport) async throws {
        var errors = report.unreachable
        errors.merge(report.outcome.failures) { first, _ in first }
        var message = report.outcome.message
        if !admission.uncommitted.isEmpty {
            message += " (applied from the work tree, with uncommitted changes on top of \(overriding.commit.short))"
        }
        var status = EnvironmentStatus(environment: desired, commit: overriding.commit.hex, result: report.outcome.result,
                                       message: message, time: Timestamp.string(from: Date()),
                                       observations: report.observations, errors: errors)
        status.applied = overriding.commit.hex
        status.quarantined = admission.status?.quarantined ?? []
        status.override = AdmissionOverride(reason: overrideReason ?? "", by: "\(overriding.author.name) <\(overriding.author.email)>",
                                            overrode: admission.holds.compactMap(\.reason), message: admission.verdict.message)
        let signer = statusKeys.signingKey.map { StatusSigner(key: $0) }
        let recorded = try await GitSupport.reporting {
            do {
                return try await StatusBranch.record(status, in: overriding.repository, branch: statusBranch,
                                                     author: overriding.author, committer: overriding.committer, signer: signer)
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
