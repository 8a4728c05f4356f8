import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing

/// What an auditor reads: `history` with signatures, approvals, refusals and their reasons, `--since`, a URL as
/// `--repo`; `validate --rev` with the commit's signature.
@Suite("pinwheel history for auditors, signatures in validate")
struct AuditHistoryTests {
    let repo: TemporaryDirectory
    let keys: TemporaryDirectory
    /// The allowed-signers file: Alice only.
    let allowedSigners: String

    init() throws {
        repo = try TemporaryDirectory()
        keys = try TemporaryDirectory()
        try repo.copyExampleConfig()
        allowedSigners = keys.path + "/allowed_signers"
        for name in ["alice", "mallory"] {
            try Program.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", keys.path + "/" + name])
        }
        let fields = try String(contentsOfFile: keys.path + "/alice.pub", encoding: .utf8).split(separator: " ")
        try "alice@example.com \(fields[0]) \(fields[1])\n".write(toFile: allowedSigners, atomically: false, encoding: .utf8)
    }

    /// git in the repository, as `name`, at `date` (author and committer), signed with `key` when given.
    @discardableResult
    func git(_ arguments: [String], as name: String = "Alice", date: String = "2026-11-20T10:00:00Z", key: String? = nil) throws -> String {
        var options = ["-C", repo.path, "-c", "user.name=\(name)", "-c", "user.email=\(name.lowercased())@example.com",
                       "-c", "commit.gpgsign=false"]
        if let key { options += ["-c", "gpg.format=ssh", "-c", "user.signingkey=\(keys.path)/\(key)"] }
        return try Program.run("/usr/bin/git", options + arguments, environment: ["GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date])
    }

    func edit(_ path: String, _ change: (String) -> String) throws {
        let text = try String(contentsOfFile: repo.path + "/" + path, encoding: .utf8)
        try repo.write(path, change(text))
    }

    /// A history: an unsigned initial commit (Nov 1), Alice's signed release (Nov 20), Mallory's unsigned change
    /// merged as GitHub pull request #12 with a review (Nov 21), and a refusal recorded for the merge.
    func makeHistory() throws -> (release: String, merge: String) {
        try git(["init", "-q", "-b", "main"])
        try git(["add", "-A"])
        try git(["commit", "-qm", "initial config"], date: "2026-11-01T10:00:00Z")
        try edit("Environments/production/B.txt") { $0.replacingOccurrences(of: "hello-service==1.0.0", with: "hello-service==1.1.0") }
        try edit("Environments/production/environment.yaml") { $0.replacingOccurrences(of: "active: A", with: "active: B") }
        try git(["commit", "-S", "-qam", "production: release hello-service 1.1.0"], key: "alice")
        let release = try git(["rev-parse", "HEAD"])
        try git(["checkout", "-qb", "mallory/rollback"])
        try edit("Environments/production/environment.yaml") { $0.replacingOccurrences(of: "active: B", with: "active: A") }
        try git(["commit", "-qam", "production: back to A"], as: "Mallory", date: "2026-11-21T09:00:00Z")
        try git(["checkout", "-q", "main"])
        try git(["merge", "--no-ff", "-q", "-m", "Merge pull request #12 from mallory/rollback\n\nBack to A\n\nReviewed-by: Dave <dave@example.com>",
                 "mallory/rollback"], as: "Carol", date: "2026-11-21T10:00:00Z")
        let merge = try git(["rev-parse", "HEAD"])
        let repository = try Repository(openingAt: repo.path)
        let status = EnvironmentStatus(environment: "production", desired: merge, result: .refused,
                                       message: "unverified commit … by Mallory <mallory@example.com>: unsigned; nothing applied",
                                       time: "2026-11-21T10:01:00Z", active: .b, pins: [], hosts: [:], applied: release)
        try repository.commit(changes: [.write(EnvironmentStatus.path(of: "production"), Data(try status.yaml().utf8))],
                              onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage,
                              author: Signature(name: "Pinwheel", email: "pinwheel@example.com", date: Date(timeIntervalSince1970: 1_795_000_000)))
        return (release, merge)
    }

    @Test func historyShowsSignaturesApprovalsAndRefusals() throws {
        let (release, merge) = try makeHistory()
        let text = try CLIRunner.run(["history", "production", "--repo", repo.path, "--allowed-signers", allowedSigners])
        #expect(text.status == 0, "\(text.stderr)")
        let blocks = text.stdout.components(separatedBy: "\n\n")
        let mergeBlock = try #require(blocks.first { $0.hasPrefix(String(merge.prefix(10))) }, "\(text.stdout)")
        #expect(mergeBlock.contains("approval:  pull request #12 (github), merged by Carol <carol@example.com>, approved by Dave <dave@example.com>"),
                "\(mergeBlock)")
        #expect(mergeBlock.contains("signature: unsigned"))
        #expect(mergeBlock.contains("refused"))
        #expect(mergeBlock.contains("unverified commit … by Mallory <mallory@example.com>: unsigned; nothing applied"))
        let releaseBlock = try #require(blocks.first { $0.hasPrefix(String(release.prefix(10))) })
        #expect(releaseBlock.contains("signature: good signature by alice@example.com (ED25519 SHA256:"), "\(releaseBlock)")
        let malloryBlock = try #require(blocks.first { $0.contains("production: back to A") })
        #expect(malloryBlock.contains("signature: unsigned"))

        // Without trusted keys a signature is shown, not checked.
        let unchecked = try CLIRunner.run(["history", "production", "--repo", repo.path])
        #expect(unchecked.stdout.contains("signature: signed, not checked (no --allowed-signers or --openpgp-keys given)"))

        let json = try CLIRunner.run(["history", "production", "--repo", repo.path, "--allowed-signers", allowedSigners, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        let byCommit = Dictionary(uniqueKeysWithValues: entries.map { ($0["commit"] as? String ?? "", $0) })
        let signed = try #require(byCommit[release]?["signature"] as? [String: Any])
        #expect(signed["state"] as? String == "good" && signed["principal"] as? String == "alice@example.com")
        let approvals = try #require(byCommit[merge]?["approvals"] as? [String: Any])
        #expect(approvals["request"] as? String == "#12" && approvals["approvers"] as? [String] == ["Dave <dave@example.com>"])
        let applied = try #require(byCommit[merge]?["applied"] as? [[String: Any]])
        #expect(applied.first?["result"] as? String == "refused")
        #expect((applied.first?["reason"] as? String)?.hasPrefix("unverified commit") == true)
    }

    /// `--trusted-status-key`: each status is marked verified when the controller's key signed it, so an auditor sees
    /// which records a controller would believe (a status branch anyone with push access could have written).
    @Test func historyMarksTheStatusesTheControllerSigned() async throws {
        let (release, merge) = try makeHistory()
        let key = keys.path + "/controller"
        try Program.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "controller", "-f", key])
        let repository = try Repository(openingAt: repo.path)
        let status = EnvironmentStatus(environment: "production", desired: release, result: .converged, message: "converged",
                                       time: "2026-11-20T10:05:00Z", active: .b, pins: [], hosts: [:])
        let signed = try await repository.signedCommit(
            changes: [.write(EnvironmentStatus.path(of: "production"), Data(try status.yaml().utf8))],
            onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage,
            author: Signature(name: "Pinwheel", email: "pinwheel@example.com")) { payload in
                try await Shell.run("/usr/bin/ssh-keygen", ["-Y", "sign", "-f", key, "-n", "git"], input: payload).standardOutput
            }

        let text = try CLIRunner.run(["history", "production", "--repo", repo.path, "--trusted-status-key", key + ".pub"])
        #expect(text.status == 0, "\(text.stderr)")
        let blocks = text.stdout.components(separatedBy: "\n\n")
        let releaseBlock = try #require(blocks.first { $0.hasPrefix(String(release.prefix(10))) }, "\(text.stdout)")
        #expect(releaseBlock.contains("converged") && releaseBlock.contains("[verified]"), "\(releaseBlock)")
        let mergeBlock = try #require(blocks.first { $0.hasPrefix(String(merge.prefix(10))) })
        #expect(mergeBlock.contains("refused") && mergeBlock.contains("[NOT VERIFIED: unsigned]"), "\(mergeBlock)")

        let json = try CLIRunner.run(["history", "production", "--repo", repo.path, "--trusted-status-key", key + ".pub", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        let byCommit = Dictionary(uniqueKeysWithValues: entries.map { ($0["commit"] as? String ?? "", $0) })
        let verified = try #require((byCommit[release]?["applied"] as? [[String: Any]])?.first)
        #expect(verified["verified"] as? Bool == true && verified["statusSignature"] as? String == "verified")
        #expect(verified["statusCommit"] as? String == signed.hex)
        let forged = try #require((byCommit[merge]?["applied"] as? [[String: Any]])?.first)
        #expect(forged["verified"] as? Bool == false && forged["statusSignature"] as? String == "unsigned")

        // Another key's signature is not the controller's; without a status key nothing is marked.
        try Program.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "other", "-f", keys.path + "/other"])
        let other = try CLIRunner.run(["history", "production", "--repo", repo.path, "--trusted-status-key", keys.path + "/other.pub"])
        #expect(other.stdout.contains("[NOT VERIFIED: signed by ED25519 SHA256:") && !other.stdout.contains("[verified]"), "\(other.stdout)")
        let unmarked = try CLIRunner.run(["history", "production", "--repo", repo.path])
        #expect(!unmarked.stdout.contains("VERIFIED") && !unmarked.stdout.contains("[verified]"))
        // A file that holds no public key is a usage error saying so.
        let bad = try CLIRunner.run(["history", "production", "--repo", repo.path, "--trusted-status-key", key])
        #expect(bad.status == 2 && bad.stderr.contains("--trusted-status-key") && bad.stderr.contains("holds no SSH public key"), "\(bad.stderr)")
    }

    @Test func historySinceADateAndFromAURL() throws {
        let (_, merge) = try makeHistory()
        let tmp = try TemporaryDirectory()
        let since = try CLIRunner.run(["history", "production", "--repo", "file://" + repo.path, "--since", "2026-11-21", "--json"],
                                      environment: ["TMPDIR": tmp.path])
        #expect(since.status == 0, "\(since.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(since.stdout.utf8)) as? [String: Any])
        let commits = try #require(object["entries"] as? [[String: Any]]).compactMap { $0["commit"] as? String }
        #expect(commits.count == 2 && commits.first == merge, "the merge and Mallory's commit, not the ones before: \(commits)")
        let applied = try #require((object["entries"] as? [[String: Any]])?.first?["applied"] as? [[String: Any]])
        #expect(applied.first?["result"] as? String == "refused", "the status branch is read from the clone too")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty, "the temporary clone is removed")

        let branch = try CLIRunner.run(["history", "production", "--repo", "file://" + repo.path, "--branch", "main", "--since",
                                        "2026-11-21T09:30:00Z"], environment: ["TMPDIR": tmp.path])
        #expect(branch.status == 0, "\(branch.stderr)")
        #expect(branch.stdout.hasPrefix(String(merge.prefix(10))) && !branch.stdout.contains("back to A\n"), "\(branch.stdout)")

        let missing = try CLIRunner.run(["history", "production", "--repo", "file:///nonexistent/repo.git"], environment: ["TMPDIR": tmp.path])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read file:///nonexistent/repo.git"), "\(missing.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)
        let badDate = try CLIRunner.run(["history", "production", "--repo", repo.path, "--since", "last tuesday"])
        #expect(badDate.status == 2 && badDate.stderr.contains("--since last tuesday"))
    }

    @Test func validateAtACommitShowsItsSignature() throws {
        let (release, merge) = try makeHistory()
        let good = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", release, "--allowed-signers", allowedSigners])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.hasPrefix("commit \(release): good signature by alice@example.com (ED25519 SHA256:"), "\(good.stdout)")
        let unsigned = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", merge, "--allowed-signers", allowedSigners])
        #expect(unsigned.stdout.hasPrefix("commit \(merge): unsigned"))

        // In a pull request's workflow: an annotation, a notice when trusted and a warning otherwise.
        let annotated = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", release, "--allowed-signers", allowedSigners,
                                           "--format", "github"])
        #expect(annotated.status == 0, "\(annotated.stderr)")
        #expect(annotated.stdout.hasPrefix("::notice title=Signature::commit \(release): good signature by alice@example.com (ED25519 SHA256"),
                "\(annotated.stdout)")
        let warned = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", merge, "--allowed-signers", allowedSigners,
                                        "--format", "github"])
        #expect(warned.stdout.hasPrefix("::warning title=Signature::commit \(merge): unsigned\n"), "\(warned.stdout)")

        // Mallory's key is not in the allowed signers: untrusted, even if the repository says otherwise.
        try repo.write("allowed_signers", try String(contentsOfFile: keys.path + "/mallory.pub", encoding: .utf8))
        try git(["add", "-A"])
        try git(["commit", "-S", "-qm", "trust mallory"], as: "Mallory", key: "mallory")
        let untrusted = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", "HEAD", "--allowed-signers", allowedSigners])
        #expect(untrusted.stdout.contains(": signed by an untrusted key (ED25519 SHA256:"), "\(untrusted.stdout)")
        let noRev = try CLIRunner.run(["validate", "--repo", repo.path, "--allowed-signers", allowedSigners])
        #expect(noRev.status == 2 && noRev.stderr.contains("give --rev too"))
    }
}
