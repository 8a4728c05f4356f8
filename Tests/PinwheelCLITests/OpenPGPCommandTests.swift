import Foundation
import PinwheelTestSupport
import Testing

/// `--openpgp-keys` on the commands that check signatures, with a commit git signed with a real gpg key.
@Suite("OpenPGP keys on the command line")
struct OpenPGPCommandTests {
    @Test func validateAndHistoryCheckAGPGSignedCommitAgainstTheGivenKeys() throws {
        let repo = try TemporaryDirectory()
        let home = repo.path + "/.gnupg"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { _ = try? Program.run("/usr/bin/gpgconf", ["--kill", "all"], environment: ["GNUPGHOME": home]) }
        let gpg = ["GNUPGHOME": home]
        try Program.run("/usr/bin/gpg", ["--batch", "--quiet", "--passphrase", "", "--quick-gen-key", "Carol <carol@example.com>",
                                         "ed25519", "sign", "never"], environment: gpg)
        let keys = repo.path + "/.carol.asc"
        try Program.run("/usr/bin/gpg", ["--batch", "--armor", "--output", keys, "--export", "carol@example.com"], environment: gpg)
        try repo.copyExampleConfig()
        let git = ["-C", repo.path, "-c", "user.name=Carol", "-c", "user.email=carol@example.com", "-c", "gpg.format=openpgp",
                   "-c", "gpg.program=/usr/bin/gpg", "-c", "user.signingkey=carol@example.com"]
        try Program.run("/usr/bin/git", ["init", "-q", "-b", "main", repo.path])
        try Program.run("/usr/bin/git", git + ["add", "Environments", "Policies"])
        try Program.run("/usr/bin/git", git + ["commit", "-q", "-S", "-m", "config, signed with gpg"], environment: gpg)
        let head = try Program.run("/usr/bin/git", git + ["rev-parse", "HEAD"])

        let good = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", "HEAD", "--openpgp-keys", keys])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.hasPrefix("commit \(head): good signature by Carol <carol@example.com> (OpenPGP "), "\(good.stdout)")
        let unchecked = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", "HEAD"])
        #expect(unchecked.stdout.hasPrefix("commit \(head): signed, not checked"), "\(unchecked.stdout)")

        let history = try CLIRunner.run(["history", "production", "--repo", repo.path, "--openpgp-keys", keys, "--json"])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains("\"state\" : \"good\"") || history.stdout.contains("\"state\":\"good\""), "\(history.stdout)")

        // A file that is not OpenPGP keys is a usage error that says how to export them; so is a key without --rev.
        let wrong = try CLIRunner.run(["validate", "--repo", repo.path, "--rev", "HEAD", "--openpgp-keys", repo.path + "/Policies/local.yaml"])
        #expect(wrong.status == 2 && wrong.stderr.contains("--openpgp-keys:") && wrong.stderr.contains("gpg --export --armor"), "\(wrong.stderr)")
        let noRev = try CLIRunner.run(["validate", "--repo", repo.path, "--openpgp-keys", keys])
        #expect(noRev.status == 2 && noRev.stderr.contains("give --rev too"), "\(noRev.stderr)")
    }
}
