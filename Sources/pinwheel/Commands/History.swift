import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the changes to an environment, newest first, with what the controller recorded for each.",
        discussion: """
            For auditors: every commit on the branch that changed Environments/<env>/ or the policy file it uses \
            (Policies/<policy>.yaml, named at the branch tip), newest first, with its author, committer and summary; \
            who approved it (GitHub's `Merge pull request #N` and a squash merge's `(#N)`, GitLab's `See merge \
            request group/project!N`, every Reviewed-by: and Approved-by: line, and who merged a merge commit); its \
            signature state against --allowed-signers and --openpgp-keys, checked as the controller checks it \
            (without either, `signed, not checked`); what it changed in the desired state; and each status the \
            controller committed for it on the status branch (applied, waiting, refused, invalid, halted, degraded… \
            with the reason: its admission or failure code and the failed step), and each `apply --override` (who, which \
            rules, why). A commit the controller applied that a force-push later removed from the branch is listed \
            too, from the status branch's records, marked [rewritten away] (rewrittenAway in JSON).

            --repo takes a path or, as `watch` does, a URL (file://, ssh://, user@host:path; ssh through the SSH \
            agent): the repository is cloned bare into a temporary folder, read, and the folder removed. --since \
            keeps the commits committed on or after a date (2026-11-01, midnight UTC, or 2026-11-01T14:00:00Z). \
            --json prints the same as data (entries[].approvals, entries[].signature with state, detail and \
            principal, entries[].applied[].reason). With --status-signing-key or --trusted-status-key each status is \
            marked [verified] when the controller's key signed it, or NOT VERIFIED with why (JSON: \
            entries[].applied[].verified and statusSignature): the statuses a controller would not believe.

            Exit status 0, 1 when the history cannot be read, 2 on a usage error.
            """
    )

    @OptionGroup var location: RepositoryLocationOptions

    @Option(name: .long, help: ArgumentHelp("The branch (or any revision) to read (default: the current branch).", valueName: "branch"))
    var branch: String?

    @OptionGroup var statusBranchOptions: StatusBranchOptions

    @Option(name: .long, help: ArgumentHelp("At most this many changes.", valueName: "n"))
    var limit: Int = 20

    @Option(name: .long, help: ArgumentHelp("Only changes committed on or after this date (2026-11-20, or 2026-11-20T14:00:00Z).", valueName: "date"))
    var since: String?

    /// The keys each commit's signature is checked against (without any, signed commits show as not checked).
    @OptionGroup var trustedKeys: TrustedKeyOptions

    /// The controller's status keys: each status is marked verified or not.
    @OptionGroup var statusKeys: StatusKeyOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func validate() throws {
        guard limit >= 1 else { throw ExitError.usage("--limit must be at least 1") }
        if let since, Self.date(since) == nil {
            throw ExitError.usage("--since \(since): give a date like 2026-11-20 or a time like 2026-11-20T14:00:00Z")
        }
    }

    /// `2026-11-20` (midnight UTC) or an ISO 8601 time with its zone.
    static func date(_ text: String) -> Date? {
        if let time = ISO8601DateFormatter().date(from: text) { return time }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }

    func run() async throws {
        let opened = try await RemoteRepository.open(repo)
        defer { opened.close() }
        let repository = opened.repository
        var history = try GitSupport.reporting {
            try EnvironmentHistory.read(environment, in: repository, revision: branch.map(opened.revision), statusBranch: statusBranch,
                                        limit: limit, since: since.flatMap(Self.date))
        }
        let verifier = SignatureVerifier(trusted: trustedKeys.trusted)
        try await GitSupport.reporting { try await history.checkSignatures(with: verifier, in: repository) }
        if statusKeys.verifies {
            let statusVerifier = try GitSupport.reporting { try StatusVerifier(publicKeys: statusKeys.publicKeys) }
            await history.checkStatusSignatures(with: statusVerifier, in: repository)
        }
        if json {
            print(try JSON.string(history))
            return
        }
        if history.entries.isEmpty {
            print("\(environment): no change on \(history.branch)" + (since.map { " since \($0)" } ?? ""))
            return
        }
        for (index, entry) in history.entries.enumerated() {
            if index > 0 { print("") }
            Terminal.print("\(entry.commit.prefix(10))  \(entry.summary)" + (entry.rewrittenAway ? "  [rewritten away]" : ""))
            print("  author:    \(entry.author.name) <\(entry.author.email)> \(entry.author.time)")
            if entry.committer != entry.author {
                print("  committer: \(entry.committer.name) <\(entry.committer.email)> \(entry.committer.time)")
            }
            if !entry.approvals.isEmpty {
                print("  approval:  \(entry.approvals.description)")
            }
            if let signature = entry.signature {
                print("  signature: \(signature.detail)")
            }
            for change in entry.changes { print("  - \(change)") }
            if entry.applied.isEmpty {
                print("  applied:   not recorded on \(statusBranch)")
            }
            for applied in entry.applied {
                var line = "  applied:   \(applied.time)  \(applied.result)"
                if let healthy = applied.healthyHosts, let hosts = applied.hosts { line += "  \(healthy)/\(hosts) hosts" }
                if let revert = applied.revert { line += "  reverted by \(revert.prefix(10))" }
                if let newer = applied.supersededBy {
                    line += "  superseded by \(newer.prefix(10))"
                    if let switched = applied.switched, !switched.isEmpty { line += " after switching \(switched.joined(separator: ", "))" }
                }
                if let code = applied.code { line += "  (\(code)\(applied.step.map { " at \($0)" } ?? ""))" }
                if let owner = applied.owner { line += "  by \(owner.replica) (epoch \(owner.epoch))" }
                if let signature = applied.statusSignature {
                    line += signature == "verified" ? "  [verified]" : "  [NOT VERIFIED: \(applied.statusSignatureDetail ?? signature)]"
                }
                Terminal.print(line)
                if let override = applied.override {
                    print("  override:  by \(override.by ?? "someone"), overriding \(override.overrode.joined(separator: ", ")): \(override.reason)")
                }
                if let reason = applied.reason {
                    print("             \(reason.replacingOccurrences(of: "\n", with: " "))")
                }
                for stage in applied.analysis ?? [] {
                    print("  analysis:  \(stage)")
                }
            }
        }
    }
}
