import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit
import Testing
@testable import PinwheelReleases

/// The facts admission decides from, gathered out of real repositories made through libgit2: ancestry, the
/// signatures of a range, the promotion source's statuses, and only what a rule will look at.
@Suite("Admission's facts from git")
struct AdmissionGathererTests {
    static let noon = ISO8601DateFormatter().date(from: "2026-11-20T12:00:00Z")!

    func production(at commit: ObjectID, in config: ConfigRepository) throws -> Environment {
        try ConfigLoader(source: CommitConfigSource(repository: config.repository, commit: commit)).environment("production")
    }

    func gather(_ gatherer: AdmissionGatherer, _ desired: Environment, commit: ObjectID, last: ObjectID?,
                in config: ConfigRepository, uncommitted: [String] = []) async throws -> AdmissionFacts {
        let lastApplied = try last.map { AdmissionFacts.LastApplied(commit: $0.hex, environment: try production(at: $0, in: config)) }
        let repository = config.repository
        return await gatherer.facts(for: desired, commit: commit, uncommitted: uncommitted, lastApplied: lastApplied, quarantined: [],
                                    in: repository,
                                    statusTip: { try StatusBranch.tip(repository, branch: EnvironmentStatus.defaultBranch)?.tip },
                                    now: Self.noon)
    }

    @Test func ancestryIsCheckedOnlyAgainstAnotherAppliedCommit() async throws {
        let config = try ConfigRepository()
        let base = try config.tip
        let next = try config.commit(["NOTES.md": "notes\n"], message: "notes\n")
        let orphan = try config.repository.commit(changes: try ConfigRepository.exampleConfig(), onBranch: "rewritten",
                                                  message: "rewritten\n", author: ConfigRepository.author)
        let gatherer = AdmissionGatherer(trusted: TrustedKeys(), allowHistoryRewrite: false)
        let desired = try production(at: next, in: config)
        #expect(try await gather(gatherer, desired, commit: next, last: base, in: config).ancestry == .descends)
        #expect(try await gather(gatherer, desired, commit: orphan, last: base, in: config).ancestry == .diverged(error: nil))
        #expect(try await gather(gatherer, desired, commit: base, last: base, in: config).ancestry == .notChecked)
        #expect(try await gather(gatherer, desired, commit: next, last: nil, in: config).ancestry == .notChecked)
        let allowing = AdmissionGatherer(trusted: TrustedKeys(), allowHistoryRewrite: true)
        let allowed = try await gather(allowing, desired, commit: orphan, last: base, in: config)
        #expect(allowed.ancestry == .notChecked && allowed.allowHistoryRewrite)
        #expect(Admission.decide(try await gather(gatherer, desired, commit: orphan, last: base, in: config)).reason == .historyRewritten)
    }

    @Test func signaturesAreCheckedOnlyWhenRequiredAndCheckable() async throws {
        let config = try ConfigRepository()
        let base = try config.tip
        let policy = try #require(try config.text("Policies/production.yaml", at: base))
        let signed = try config.commit(["Policies/production.yaml": policy + "verify: {signatures: required}\n"], message: "require signatures\n")
        let required = try production(at: signed, in: config)
        // Unsigned commits need no ssh-keygen to be judged: any allowed-signers path will do.
        let keys = TrustedKeys(allowedSigners: config.root.appendingPathComponent("allowed_signers").path)
        let gatherer = AdmissionGatherer(trusted: keys, allowHistoryRewrite: false)

        let facts = try await gather(gatherer, required, commit: signed, last: base, in: config)
        guard case let .checked(.refused(offences)) = facts.signatures else {
            Issue.record("not refused: \(facts.signatures)"); return
        }
        #expect(offences.map(\.commit.id) == [signed.hex], "the range from the last applied commit, the tip only")
        #expect(Admission.decide(facts).reason == .unverifiedCommits)
        #expect(try await gather(gatherer, try production(at: base, in: config), commit: base, last: nil, in: config).signatures
            == .notChecked, "no policy requires them")
        #expect(try await gather(gatherer, required, commit: signed, last: base, in: config, uncommitted: ["Policies/production.yaml"])
            .signatures == .notChecked, "work tree changes are no commit to check")
        let keyless = try await gather(AdmissionGatherer(trusted: TrustedKeys(), allowHistoryRewrite: false), required,
                                       commit: signed, last: base, in: config)
        #expect(keyless.signatures == .notChecked && !keyless.trustsKeys)
        #expect(Admission.decide(keyless).reason == .noTrustedKeys)
    }

    /// An unsigned commit that adds an environment of its own naming a guarded environment's hosts gets the guarded
    /// environment's rule, also when the same commit weakens that environment's policy (its last applied state says).
    @Test func aHostSharedWithASigningEnvironmentGetsItsRule() async throws {
        let config = try ConfigRepository()
        let initial = try config.tip
        let policy = try #require(try config.text("Policies/production.yaml", at: initial))
        let guarded = try config.commit(["Policies/production.yaml": policy + "verify: {signatures: required}\n"],
                                        message: "require signatures\n")
        try config.recordStatus(environment: "production", desired: guarded, result: .converged, healthy: true, date: Self.noon)
        var files: [String: String] = ["Policies/shadow.yaml": try #require(try config.text("Policies/staging.yaml", at: guarded))]
        for name in ["A.txt", "B.txt", "known_hosts"] {
            let text: String = try #require(try config.text("Environments/production/\(name)", at: guarded))
            files["Environments/shadow/\(name)"] = text
        }
        let environment: String = try #require(try config.text("Environments/production/environment.yaml", at: guarded))
        files["Environments/shadow/environment.yaml"] = environment.replacingOccurrences(of: "policy: production", with: "policy: shadow")
        let shadowed = try config.commit(files, message: "a shadow environment on production's hosts\n")
        let shadow = try ConfigLoader(source: CommitConfigSource(repository: config.repository, commit: shadowed)).environment("shadow")
        let keys = TrustedKeys(allowedSigners: config.root.appendingPathComponent("allowed_signers").path)
        let facts = try await gather(AdmissionGatherer(trusted: keys, allowHistoryRewrite: false), shadow, commit: shadowed, last: nil,
                                     in: config)
        #expect(facts.signingNeighbours.map(\.environment) == ["production"])
        #expect(Admission.decide(facts).reason == .unverifiedCommits, "the unsigned commit does not reach production's hosts")

        // The same, with production's own rule dropped in the commit: its last applied state still guards its hosts.
        let weakened = try config.commit(["Policies/production.yaml": policy], message: "drop the rule\n")
        let again = try await gather(AdmissionGatherer(trusted: keys, allowHistoryRewrite: false),
                                     try ConfigLoader(source: CommitConfigSource(repository: config.repository, commit: weakened))
                                         .environment("shadow"),
                                     commit: weakened, last: nil, in: config)
        #expect(again.signingNeighbours.map(\.environment) == ["production"])
        #expect(Admission.decide(again).holds)

        // Staging shares no host with production: it is not held by production's rule.
        let staging = try ConfigLoader(source: CommitConfigSource(repository: config.repository, commit: weakened)).environment("staging")
        let unrelated = try await gather(AdmissionGatherer(trusted: keys, allowHistoryRewrite: false), staging, commit: weakened,
                                         last: nil, in: config)
        #expect(unrelated.signingNeighbours.isEmpty)
    }

    @Test func theOperatorsRuleCoversEveryEnvironment() async throws {
        let config = try ConfigRepository()
        let base = try config.tip
        let next = try config.commit(["NOTES.md": "notes\n"], message: "notes\n")
        let keys = TrustedKeys(allowedSigners: config.root.appendingPathComponent("allowed_signers").path, requireSignatures: true)
        let facts = try await gather(AdmissionGatherer(trusted: keys, allowHistoryRewrite: false), try production(at: next, in: config),
                                     commit: next, last: base, in: config)
        #expect(facts.operatorRequiresSignatures)
        #expect(Admission.decide(facts).reason == .unverifiedCommits, "no policy requires them; the operator does")
    }

    @Test func thePromotionSourceIsReadFromTheStatusBranchUnlessItIsARollback() async throws {
        let config = try ConfigRepository()
        let base = try config.tip
        let policy = try #require(try config.text("Policies/production.yaml", at: base))
        let promoted = try config.commit(["Policies/production.yaml": policy + "promotion: {from: staging, soak: 30m}\n"],
                                         message: "promote from staging\n")
        let desired = try production(at: promoted, in: config)
        let gatherer = AdmissionGatherer(trusted: TrustedKeys(), allowHistoryRewrite: false)
        #expect(try await gather(gatherer, desired, commit: promoted, last: base, in: config).promotion == .observed([]),
                "no status branch yet: the source has no status")
        try config.recordStatus(environment: "staging", desired: base, result: .converged, healthy: true, date: Self.noon,
                                time: "2026-11-20T10:00:00Z")
        guard case let .observed(statuses) = try await gather(gatherer, desired, commit: promoted, last: base, in: config).promotion else {
            Issue.record("not observed"); return
        }
        #expect(statuses.map(\.result) == [.converged])
        #expect(try await gather(gatherer, try production(at: base, in: config), commit: base, last: nil, in: config).promotion
            == .notRead, "the policy at the base has no promotion")
    }

    @Test func theLastAppliedStateIsLoadedAtItsCommit() throws {
        let config = try ConfigRepository()
        let base = try config.tip
        let status = EnvironmentStatus(environment: "production", desired: base.hex, result: .converged, message: "",
                                       time: "2026-11-20T10:00:00Z", active: .a, pins: [], hosts: [:], applied: base.hex)
        let last = try #require(AdmissionGatherer.lastApplied("production", status: status, in: config.repository))
        let loaded = try production(at: base, in: config)
        #expect(last.commit == base.hex && last.environment == loaded)
        var gone = status
        gone.applied = String(repeating: "e", count: 40)
        #expect(AdmissionGatherer.lastApplied("production", status: gone, in: config.repository)?.environment == nil)
        #expect(AdmissionGatherer.lastApplied("production", status: nil, in: config.repository) == nil)
    }
}
