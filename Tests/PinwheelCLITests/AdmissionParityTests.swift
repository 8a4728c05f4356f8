import Foundation
import PinwheelController
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing

/// `watch` and `apply` judge a commit alike: the controller's admission (its poll, publishing the held status) and
/// `pinwheel apply` run against the same repositories and the same commit, and give the same reason code. The
/// example config's staging hosts are under `.invalid`: a held commit never reaches them, and neither side tries.
@Suite("Admission: watch and apply agree")
struct AdmissionParityTests {
    /// The repository's own example config in a work clone of a bare remote, with `policy` added to staging's.
    func repositories(policy: String) async throws -> (TemporaryDirectory, ConfigRemote) {
        let directory = try TemporaryDirectory()
        let work = directory.url.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        for folder in ["Environments", "Policies"] {
            try FileManager.default.copyItem(at: CLIRunner.packageRoot.appendingPathComponent(folder), to: work.appendingPathComponent(folder))
        }
        let policyFile = work.appendingPathComponent("Policies/staging.yaml").path
        let text = try String(contentsOfFile: policyFile, encoding: .utf8)
        try (text + policy + "\n").write(toFile: policyFile, atomically: false, encoding: .utf8)
        return (directory, try await ConfigRemote(from: work.path, in: directory.path))
    }

    /// The reason code the controller records after one poll of `config`.
    func controllerReason(_ config: ConfigRemote, in directory: TemporaryDirectory, allowedSigners: String? = nil,
                          requireSignatures: Bool = false) async throws -> String? {
        var configuration = ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(directory.path)/cache", environments: ["staging"], authorName: "Pinwheel", authorEmail: "pinwheel@test",
            allowedSigners: allowedSigners, now: { ISO8601DateFormatter().date(from: "2026-11-20T13:00:00Z")! })
        configuration.requireSignatures = requireSignatures
        let controller = Controller(configuration: configuration, logger: CapturedLogs().logger())
        await controller.poll()
        await controller.settle()
        let status = try #require(try config.status(of: "staging"), "the controller recorded no status")
        #expect(status.desired == (try await config.head()))
        #expect(status.result == .waiting || status.result == .refused)
        return status.reason
    }

    /// The `apply.held` line of `apply --json`, with its exit status.
    func applyHeld(_ config: ConfigRemote, extra: [String] = []) throws -> (status: Int32, held: [String: Any]?) {
        let result = try CLIRunner.run(["apply", "staging", "--repo", config.work, "--json"] + extra)
        let lines = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(!lines.contains { $0["event"] as? String == "apply.started" }, "nothing started: \(result.stdout)\(result.stderr)")
        return (result.status, lines.first { $0["event"] as? String == "apply.held" })
    }

    @Test func aCommitInAClosedWindowWaitsInBoth() async throws {
        let (directory, config) = try await repositories(policy: "windows:\n  - deny: {from: \"00:00\", to: \"00:00\", zone: UTC}")
        let watch = try await controllerReason(config, in: directory)
        let apply = try applyHeld(config)
        #expect(watch == AdmissionReason.windowClosed.rawValue)
        #expect(apply.status == 1)
        #expect(apply.held?["reason"] as? String == watch)
        #expect(apply.held?["decision"] as? String == "wait")
        #expect(apply.held?["commit"] as? String == (try await config.head()))
    }

    @Test func aPromotionWithoutItsSourcesStatusWaitsInBoth() async throws {
        let (directory, config) = try await repositories(policy: "promotion: {from: production, soak: 30m}")
        let watch = try await controllerReason(config, in: directory)
        let apply = try applyHeld(config)
        #expect(watch == AdmissionReason.promotionWaiting.rawValue)
        #expect(apply.status == 1)
        #expect(apply.held?["reason"] as? String == watch)
    }

    /// The last applied commit comes from the status branch, as after a controller's restart: here one the branch
    /// does not descend from.
    @Test func aTipThatDoesNotDescendFromTheLastAppliedCommitIsRefusedInBoth() async throws {
        let (directory, config) = try await repositories(policy: "")
        try await config.inWork(["checkout", "-q", "-b", "side"])
        try await config.inWork(["commit", "-q", "--allow-empty", "-m", "applied once, then dropped"])
        try await config.inWork(["push", "-q", "origin", "side"])
        let dropped = try await config.head()
        try await config.inWork(["checkout", "-q", "main"])
        let status = EnvironmentStatus(environment: "staging", desired: dropped, result: .converged, message: "every host serves the desired slot",
                                       time: "2026-11-19T10:00:00Z", active: .b, pins: [], hosts: [:], applied: dropped)
        let work = try Repository(openingAt: config.work)
        try work.commit(changes: [.write(EnvironmentStatus.path(of: "staging"), Data(try status.yaml().utf8))],
                        onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage,
                        author: Signature(name: "Pinwheel", email: "pinwheel@test"))
        try await config.inWork(["push", "-q", "origin", EnvironmentStatus.defaultBranch])

        let watch = try await controllerReason(config, in: directory)
        let apply = try applyHeld(config)
        #expect(watch == AdmissionReason.historyRewritten.rawValue)
        #expect(apply.status == 1)
        #expect(apply.held?["reason"] as? String == watch)
        #expect(apply.held?["decision"] as? String == "refuse")
        // --allow-history-rewrite accepts it in apply, as in watch.
        let allowed = try CLIRunner.run(["apply", "staging", "--repo", config.work, "--json", "--allow-history-rewrite"])
        #expect(!allowed.stdout.contains("apply.held"), "\(allowed.stdout)")
    }

    /// An allowed-signers file with a fresh key of Alice's, in `directory`.
    func allowedSigners(in directory: TemporaryDirectory) async throws -> String {
        let key = "\(directory.path)/alice"
        let made = try await Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key])
        try #require(made.status == 0, "ssh-keygen: \(made.standardError)")
        let fields = try String(contentsOfFile: key + ".pub", encoding: .utf8).split(separator: " ")
        let allowed = "\(directory.path)/allowed_signers"
        try "alice@example.com \(fields[0]) \(fields[1])\n".write(toFile: allowed, atomically: false, encoding: .utf8)
        return allowed
    }

    /// The operator's `--require-signatures` refuses an unsigned commit that no policy guards, in both.
    @Test func theOperatorsSignatureRuleRefusesInBoth() async throws {
        let (directory, config) = try await repositories(policy: "")
        let allowed = try await allowedSigners(in: directory)
        let watch = try await controllerReason(config, in: directory, allowedSigners: allowed, requireSignatures: true)
        let apply = try applyHeld(config, extra: ["--allowed-signers", allowed, "--require-signatures"])
        #expect(watch == AdmissionReason.unverifiedCommits.rawValue)
        #expect(apply.status == 1)
        #expect(apply.held?["reason"] as? String == watch)
    }

    @Test func anUnsignedCommitUnderRequiredSignaturesIsRefusedInBoth() async throws {
        let (directory, config) = try await repositories(policy: "verify: {signatures: required}")
        let allowed = try await allowedSigners(in: directory)

        let watch = try await controllerReason(config, in: directory, allowedSigners: allowed)
        let apply = try applyHeld(config, extra: ["--allowed-signers", allowed])
        #expect(watch == AdmissionReason.unverifiedCommits.rawValue)
        #expect(apply.status == 1)
        #expect(apply.held?["reason"] as? String == watch)
        #expect(apply.held?["decision"] as? String == "refuse")

        // Without a trusted key, apply refuses as a controller without one would.
        let keyless = try applyHeld(config)
        #expect(keyless.held?["reason"] as? String == AdmissionReason.noTrustedKeys.rawValue)
        // A change in the work tree is no commit: it cannot be verified.
        let slot = "\(config.work)/Environments/staging/B.txt"
        try (try String(contentsOfFile: slot, encoding: .utf8) + "# edited\n").write(toFile: slot, atomically: false, encoding: .utf8)
        let edited = try applyHeld(config, extra: ["--allowed-signers", allowed])
        #expect(edited.held?["reason"] as? String == AdmissionReason.notCommitted.rawValue)
    }
}
