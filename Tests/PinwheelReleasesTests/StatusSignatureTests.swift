import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelReleases

/// The controller's memory is its own: status commits signed with the controller's SSH key through
/// ``Repository/signedCommit(changes:onBranch:message:author:committer:expectedParent:sign:)`` and ssh-keygen, checked
/// by git itself, and read back believing only what that key signed.
@Suite("Status signatures", .tags(.security))
struct StatusSignatureTests {
    static let environment = "production"
    static let branch = EnvironmentStatus.defaultBranch
    static let pinwheel = Signature(name: "Pinwheel", email: "pinwheel@test")

    static func status(desired: String, result: EnvironmentStatus.Result = .converged,
                       quarantined: [String] = []) -> EnvironmentStatus {
        EnvironmentStatus(environment: environment, desired: desired, result: result, message: "\(result) at \(desired.prefix(7))",
                          time: "2026-12-07T03:00:00Z", active: .a, pins: ["hello-service==1.0.0"], hosts: [:],
                          quarantined: quarantined)
    }

    static func write(_ status: EnvironmentStatus, in repository: Repository, signer: StatusSigner?) async throws -> ObjectID {
        let file = FileChange.write(EnvironmentStatus.path(of: status.environment), Data(try status.yaml().utf8))
        guard let signer else {
            return try repository.commit(changes: [file], onBranch: branch, message: status.commitMessage, author: pinwheel)
        }
        return try await repository.signedCommit(changes: [file], onBranch: branch, message: status.commitMessage,
                                                 author: pinwheel, sign: signer.sign)
    }

    static let a = String(repeating: "a", count: 40)
    static let b = String(repeating: "b", count: 40)
    static let broken = String(repeating: "9", count: 40)

    @Test func aStatusTheControllerSignsIsVerifiedByGitAndByTheController() async throws {
        let signing = try SigningRepository("status-signed")
        _ = try signing.newKey("controller")
        let repository = try signing.repository()
        let signer = StatusSigner(key: "\(signing.folder)/controller")
        let signed = try await Self.write(Self.status(desired: Self.a), in: repository, signer: signer)
        #expect(try repository.referenceTarget("refs/heads/\(Self.branch)") == signed)
        #expect(try repository.signature(of: signed)?.signature.hasPrefix("-----BEGIN SSH SIGNATURE-----") == true)

        // git's own check, as an operator runs it: gpg.format=ssh against an allowed-signers file with the key.
        let allowed = signing.folder + "/status_signers"
        try "pinwheel@test \(try signing.publicKey("controller"))\n".write(toFile: allowed, atomically: false, encoding: .utf8)
        let git = ["-C", signing.work, "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=\(allowed)"]
        let shown = try await Shell.run("/usr/bin/git", git + ["log", "--show-signature", "-1", signed.hex])
        #expect(shown.status == 0 && shown.standardOutput.contains("Good \"git\" signature for pinwheel@test"),
                "\(shown.standardOutput) \(shown.standardError)")
        let verified = try await Shell.run("/usr/bin/git", git + ["verify-commit", signed.hex])
        #expect(verified.status == 0, "\(verified.standardError)")
        // The file it records reads back as written.
        #expect(try StatusBranch.status(of: Self.environment, at: signed, in: repository)?.desired == Self.a)

        let verifier = try StatusVerifier(publicKeys: [signer.publicKey])
        let state = await verifier.state(of: signed, in: repository)
        guard case let .verified(key) = state else { Issue.record("not verified: \(state)"); return }
        #expect(key.hasPrefix("ED25519 SHA256:"))
    }

    @Test func forgedStatusesAreNotBelievedAndNoQuarantineIsLifted() async throws {
        let signing = try SigningRepository("status-forged")
        _ = try signing.newKey("controller")
        _ = try signing.newKey("mallory")
        let repository = try signing.repository()
        let controller = StatusSigner(key: "\(signing.folder)/controller")
        let mallory = StatusSigner(key: "\(signing.folder)/mallory")
        let verifier = try StatusVerifier(publicKeys: [controller.publicKey])

        // The controller applied A, halted on the broken release and quarantined it.
        _ = try await Self.write(Self.status(desired: Self.a), in: repository, signer: controller)
        let halted = try await Self.write(Self.status(desired: Self.broken, result: .halted, quarantined: [Self.broken]),
                                          in: repository, signer: controller)
        // Someone who can push the status branch: an unsigned status claiming B applied, then one signed by a key the
        // controller does not trust, dropping the quarantine.
        let unsigned = try await Self.write(Self.status(desired: Self.b), in: repository, signer: nil)
        let untrusted = try await Self.write(Self.status(desired: Self.broken), in: repository, signer: mallory)

        let tip = try #require(try repository.referenceTarget("refs/heads/\(Self.branch)"))
        let read = try await StatusBranch.trustedStatus(of: Self.environment, at: tip, in: repository, verifier: verifier)
        #expect(read.commit == halted)
        #expect(read.status?.desired == Self.broken && read.status?.result == .halted)
        #expect(read.status?.lastApplied == Self.broken, "what the controller itself recorded")
        #expect(read.quarantined == [Self.broken] && read.status?.quarantined == [Self.broken])
        #expect(read.disbelieved.map(\.commit) == [untrusted, unsigned])
        #expect(read.disbelieved.first.map { if case .untrusted = $0.signature { true } else { false } } == true)
        #expect(read.disbelieved.last?.signature == .unsigned)
        let warning = try #require(read.warning)
        #expect(warning.contains("the newest status (\(untrusted.short)) is not the controller's")
                && warning.contains("which is not a trusted status key") && warning.contains(halted.short), "\(warning)")

        // The unforged read believes the forgery: what a controller without a status key would remember.
        #expect(try StatusBranch.status(of: Self.environment, at: tip, in: repository)?.quarantined == [])

        // A changed commit: the signature no longer matches its content.
        let payload = try #require(try repository.signature(of: halted) as (signature: String, signedData: String)?)
        let tampered = try await verifier.check(signature: payload.signature,
                                                payload: payload.signedData.replacingOccurrences(of: "halted", with: "converged"))
        guard case .bad = tampered else { Issue.record("not bad: \(tampered)"); return }
    }

    @Test func withNoStatusSignedByTheControllerNothingIsAppliedButEveryQuarantineIsKept() async throws {
        let signing = try SigningRepository("status-none")
        _ = try signing.newKey("controller")
        let repository = try signing.repository()
        let verifier = try StatusVerifier(publicKeys: ["\(signing.folder)/controller.pub"])
        _ = try await Self.write(Self.status(desired: Self.broken, result: .halted, quarantined: [Self.broken]), in: repository, signer: nil)
        _ = try await Self.write(Self.status(desired: Self.b), in: repository, signer: nil)
        let tip = try #require(try repository.referenceTarget("refs/heads/\(Self.branch)"))
        let read = try await StatusBranch.trustedStatus(of: Self.environment, at: tip, in: repository, verifier: verifier)
        #expect(read.status == nil && read.commit == nil && read.disbelieved.count == 2)
        let believed = try #require(read.believed(Self.environment, time: "2026-12-07T03:00:00Z"))
        #expect(believed.lastApplied == nil, "nothing is believed applied: the whole range is checked")
        #expect(believed.quarantined == [Self.broken])
        #expect(read.warning?.contains("no status is signed by the controller's key") == true)
    }

    @Test func aBranchMovedWhileSigningIsNeverOverwritten() async throws {
        let signing = try SigningRepository("status-race")
        _ = try signing.newKey("controller")
        let repository = try signing.repository()
        let signer = StatusSigner(key: "\(signing.folder)/controller")
        let first = try await Self.write(Self.status(desired: Self.a), in: repository, signer: signer)
        let file = FileChange.write(EnvironmentStatus.path(of: Self.environment), Data(try Self.status(desired: Self.b).yaml().utf8))
        var concurrent: ObjectID?
        do {
            try await repository.signedCommit(changes: [file], onBranch: Self.branch, message: "status", author: Self.pinwheel) { payload in
                // Another writer commits while ssh-keygen signs.
                concurrent = try repository.commit(changes: [.write("other", Data("x".utf8))], onBranch: Self.branch,
                                                   message: "another writer", author: Self.pinwheel)
                return try await signer.sign(payload)
            }
            Issue.record("the signed commit moved a branch that moved meanwhile")
        } catch let error as GitError {
            #expect(error.code == .referenceChanged, "\(error)")
        }
        #expect(concurrent != nil && concurrent != first)
        #expect(try repository.referenceTarget("refs/heads/\(Self.branch)") == concurrent)
    }

    /// A promotion's soak is read from the source's statuses: with the controller's keys, a forged one does not count.
    @Test func aPromotionCountsOnlyTheSourceStatusesTheControllerSigned() async throws {
        let config = try ConfigRepository()
        let base = try config.tip
        let policy = try #require(try config.text("Policies/production.yaml", at: base))
        let promoted = try config.commit(["Policies/production.yaml": policy + "promotion: {from: staging, soak: 30m}\n"],
                                         message: "promote from staging\n")
        let desired = try ConfigLoader(source: CommitConfigSource(repository: config.repository, commit: promoted)).environment("production")
        let before = try ConfigLoader(source: CommitConfigSource(repository: config.repository, commit: base)).environment("production")
        let keys = try SigningRepository("status-promotion")
        _ = try keys.newKey("controller")
        let signer = StatusSigner(key: "\(keys.folder)/controller")
        let gatherer = AdmissionGatherer(trusted: TrustedKeys(), allowHistoryRewrite: false,
                                         statusVerifier: try StatusVerifier(publicKeys: [signer.publicKey]))
        let repository = config.repository
        func promotion() async -> AdmissionFacts.PromotionSource? {
            await gatherer.facts(for: desired, commit: promoted, lastApplied: AdmissionFacts.LastApplied(commit: base.hex, environment: before),
                                 quarantined: [], in: repository,
                                 statusTip: { try StatusBranch.tip(repository, branch: EnvironmentStatus.defaultBranch)?.tip },
                                 now: ISO8601DateFormatter().date(from: "2026-11-20T12:00:00Z")!).promotion
        }
        // Someone who can push the status branch says staging has run the pins since long ago.
        try config.recordStatus(environment: "staging", desired: base, result: .converged, healthy: true, date: Date(),
                                time: "2026-11-20T09:00:00Z")
        #expect(await promotion() == .observed([]), "the forged status is not counted")
        var status = EnvironmentStatus(environment: "staging", desired: base.hex, result: .converged, message: "observed",
                                       time: "2026-11-20T10:00:00Z", active: .b, pins: ["hello-service==1.1.0"],
                                       hosts: ["web-01": .init(serving: .b, slots: [:], healthy: true)])
        status.message = "every host serves the desired slot"
        _ = try await repository.signedCommit(
            changes: [.write(EnvironmentStatus.path(of: "staging"), Data(try status.yaml().utf8))],
            onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage, author: Self.pinwheel, sign: signer.sign)
        guard case let .observed(observed) = await promotion() else { Issue.record("not observed"); return }
        #expect(observed.map(\.time) == [ISO8601DateFormatter().date(from: "2026-11-20T10:00:00Z")!], "only the controller's status counts")
    }

    /// An environment that required signatures when the controller last applied it keeps guarding its hosts: a forged
    /// status naming a later commit without the rule does not shed it.
    @Test func aForgedStatusCannotShedASigningEnvironmentsRule() async throws {
        let config = try ConfigRepository()
        let initial = try config.tip
        let policy = try #require(try config.text("Policies/production.yaml", at: initial))
        let guarded = try config.commit(["Policies/production.yaml": policy + "verify: {signatures: required}\n"],
                                        message: "require signatures\n")
        let weakened = try config.commit(["Policies/production.yaml": policy], message: "drop the rule\n")
        let keys = try SigningRepository("status-neighbours")
        _ = try keys.newKey("controller")
        let signer = StatusSigner(key: "\(keys.folder)/controller")
        let repository = config.repository
        let applied = EnvironmentStatus(environment: "production", desired: guarded.hex, result: .converged, message: "converged",
                                        time: "2026-11-20T10:00:00Z", active: .a, pins: [], hosts: [:])
        _ = try await Self.write(applied, in: repository, signer: signer)
        var forged = applied
        forged.desired = weakened.hex
        _ = try await Self.write(forged, in: repository, signer: nil)
        let tip = try #require(try repository.referenceTarget("refs/heads/\(Self.branch)"))

        let believingAnyone = await AdmissionGatherer.signingEnvironments(at: weakened, statusTip: tip, in: repository)
        #expect(believingAnyone["production"] == nil, "the forged status sheds the rule when it is believed")
        let verifier = try StatusVerifier(publicKeys: [signer.publicKey])
        let believingTheController = await AdmissionGatherer.signingEnvironments(at: weakened, statusTip: tip, in: repository,
                                                                                 verifier: verifier)
        #expect(believingTheController["production"]?.isEmpty == false, "production as the controller last applied it")
    }

    @Test func fingerprintsAreOpenSSHsAndKeysOthersMayReadAreRefused() throws {
        let signing = try SigningRepository("status-keys")
        let key = try signing.newKey("controller")
        let listed = try Program.run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", "\(signing.folder)/controller.pub"])
        let fingerprint = try #require(StatusVerifier.fingerprints(inPublicKeys: key).first)
        #expect(listed.contains(fingerprint + " "), "\(listed) \(fingerprint)")
        #expect(StatusVerifier.fingerprints(inPublicKeys: "# a comment\nnot a key\npinwheel@test namespaces=\"git\" \(key)\n")
                == [fingerprint])
        try "not a key\n".write(toFile: "\(signing.folder)/junk.pub", atomically: false, encoding: .utf8)
        #expect(throws: OperationError.self) { try StatusVerifier(publicKeys: ["\(signing.folder)/junk.pub"]) }

        let path = "\(signing.folder)/controller"
        #expect(StatusSigner.problem(with: path) == nil)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(StatusSigner.problem(with: path)?.contains("chmod 600") == true)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try FileManager.default.removeItem(atPath: path + ".pub")
        #expect(StatusSigner.problem(with: path)?.contains("controller.pub is missing") == true)
        #expect(StatusSigner.problem(with: path, trusting: ["elsewhere.pub"]) == nil)
        #expect(StatusSigner.problem(with: signing.folder + "/nothing")?.contains("is not a file") == true)
    }
}
