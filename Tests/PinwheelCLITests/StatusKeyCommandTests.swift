import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing

/// `--status-signing-key` and `--trusted-status-key` on the command line: keys that cannot sign or verify are usage
/// errors naming the key by its file name only, and `apply` believes only the statuses the controller's key signed.
@Suite("Status keys on the command line", .tags(.security))
struct StatusKeyCommandTests {
    let git = GitCommandTests()

    func key(_ name: String, in folder: TemporaryDirectory) throws -> String {
        let path = folder.path + "/" + name
        try Program.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path])
        return path
    }

    @Test func aKeyOthersMayReadOrNoPublicKeyIsAUsageErrorThatNamesOnlyTheFile() throws {
        let keys = try TemporaryDirectory()
        let own = try key("controller", in: keys)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: own)
        for command in [["watch", "--repo", keys.path], ["apply", "production", "--repo", keys.path]] {
            let open = try CLIRunner.run(command + ["--status-signing-key", own])
            #expect(open.status == 2 && open.stderr.contains("--status-signing-key: controller may be read by other users (mode 644)"),
                    "\(open.stderr)")
            #expect(!open.stderr.contains(keys.path), "the key's path is not printed: \(open.stderr)")
        }
        let notAKey = try CLIRunner.run(["watch", "--repo", keys.path, "--trusted-status-key", own])
        #expect(notAKey.status == 2 && notAKey.stderr.contains("--trusted-status-key: controller holds no SSH public key"), "\(notAKey.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: own)
        try FileManager.default.removeItem(atPath: own + ".pub")
        let noPublic = try CLIRunner.run(["watch", "--repo", keys.path, "--status-signing-key", own])
        #expect(noPublic.status == 2 && noPublic.stderr.contains("controller.pub is missing"), "\(noPublic.stderr)")
        let help = try CLIRunner.run(["watch", "--help"])
        #expect(help.stdout.contains("--status-signing-key") && help.stdout.contains("--trusted-status-key"))
    }

    /// A forged status lifting a quarantine: `apply` with the controller's key keeps refusing the quarantined commit,
    /// before any host is contacted, and says which status it did not believe.
    @Test func applyBelievesOnlyTheControllersStatuses() async throws {
        let repo = try git.repository()
        let keys = try TemporaryDirectory()
        let own = try key("controller", in: keys)
        let head = try git.git(repo, "rev-parse", "HEAD")
        let repository = try Repository(openingAt: repo.path)
        let path = EnvironmentStatus.path(of: "production")
        var halted = EnvironmentStatus(environment: "production", desired: head, result: .halted, message: "halted",
                                       time: "2026-12-07T03:00:00Z", active: .a, pins: [], hosts: [:])
        halted.quarantined = [head]
        let signed = try await repository.signedCommit(
            changes: [.write(path, Data(try halted.yaml().utf8))], onBranch: EnvironmentStatus.defaultBranch,
            message: halted.commitMessage, author: Signature(name: "Pinwheel", email: "pinwheel@example.com")) { payload in
                try await Shell.run("/usr/bin/ssh-keygen", ["-Y", "sign", "-f", own, "-n", "git"], input: payload).standardOutput
            }
        // On top, unsigned: the same commit converged, nothing quarantined.
        try git.recordStatus(repo, environment: "production", desired: head, result: .converged, healthy: true,
                             date: Date(), quarantined: [])

        let refused = try git.run(["apply", "production", "--repo", repo.path, "--rev", head, "--status-signing-key", own])
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("is not the controller's (unsigned)") && refused.stderr.contains(signed.short), "\(refused.stderr)")
        #expect(refused.stderr.contains("quarantine"), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing was done"), "\(refused.stderr)")
    }

    /// `watch` as a process: with the key, the status it pushes (an invalid config's: no host is needed) is signed so
    /// that git verifies it, and the log names the key by its file name only; without one, it says the status branch
    /// is trusted unsigned.
    @Test func watchSignsWhatItPushesAndSaysWhenItDoesNot() async throws {
        let work = try TemporaryDirectory()
        try work.copyExampleConfig()
        try work.write("Environments/production/environment.yaml", "hosts: [\n")
        let place = try TemporaryDirectory()
        let config = try await ConfigRemote(from: work.path, in: place.path)
        let keys = try TemporaryDirectory()
        let own = try key("controller", in: keys)

        let signing = try WatchProcess(remote: config.remote, allow: place.path, cache: place.path + "/cache",
                                                    log: place.path + "/signed.log", extra: ["--status-signing-key", own])
        try await signing.waitFor(.statusCommitted)
        signing.signal(SIGTERM)
        signing.process.waitUntilExit()
        #expect(signing.events(.statusTrust).map { [$0["trust"], $0["key"]] } == [["signed", "controller"]], "\(signing.text)")
        #expect(!signing.text.contains(keys.path), "the key's folder is never logged")
        let signers = keys.path + "/status_signers"
        let publicKey = try String(contentsOfFile: own + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try "pinwheel@localhost \(publicKey)\n".write(toFile: signers, atomically: false, encoding: .utf8)
        let marks = try await config.inRemote(["-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=\(signers)",
                                               "log", "--format=%G?", EnvironmentStatus.defaultBranch])
        #expect(marks.split(separator: "\n") == ["G"], "\(marks)")
        #expect(try config.status(of: "production")?.result == .invalid)

        let unsigned = try WatchProcess(remote: config.remote, allow: place.path, cache: place.path + "/cache2",
                                                     log: place.path + "/unsigned.log")
        try await unsigned.waitFor(.statusTrust, where: ["trust": "unsigned"])
        unsigned.signal(SIGTERM)
        unsigned.process.waitUntilExit()
    }
}
