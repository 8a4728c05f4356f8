import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelReleases

/// SignatureVerifier against commits signed by git with real ed25519 keys.
@Suite("Signature verifier")
struct SignatureVerifierTests {
    @Test func statesOfSignedUnsignedAndTamperedCommitsAndAKeyRevoked() async throws {
        let temporary = try TemporaryFolder("verifier")
        let folder = temporary.path
        defer { withExtendedLifetime(temporary) {} }
        let work = folder + "/work"
        let git = ["-C", work, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "-c", "gpg.format=ssh",
                   "-c", "user.signingkey=\(folder)/alice"]
        try Program.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", folder + "/alice"])
        try Program.run("/usr/bin/git", ["init", "-q", "-b", "main", work])
        try Program.run("/usr/bin/git", git + ["commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "unsigned"])
        let unsigned = try Program.run("/usr/bin/git", git + ["rev-parse", "HEAD"])
        try Program.run("/usr/bin/git", git + ["commit", "-q", "--allow-empty", "-S", "-m", "signed"])
        let signed = try Program.run("/usr/bin/git", git + ["rev-parse", "HEAD"])
        let allowed = folder + "/allowed_signers"
        let key = try String(contentsOfFile: folder + "/alice.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try "alice@example.com \(key)\n".write(toFile: allowed, atomically: false, encoding: .utf8)

        let repository = try Repository(openingAt: work)
        let signedID = try #require(ObjectID(hex: signed))
        let unsignedID = try #require(ObjectID(hex: unsigned))
        let verifier = SignatureVerifier(allowedSigners: allowed)
        let good = try await verifier.state(of: signedID, in: repository)
        guard case let .good(principal, fingerprint) = good else { Issue.record("not good: \(good)"); return }
        #expect(principal == "alice@example.com" && fingerprint.hasPrefix("ED25519 SHA256:"))
        #expect(try await verifier.state(of: unsignedID, in: repository) == .unsigned)
        #expect(try await SignatureVerifier(allowedSigners: nil).state(of: signedID, in: repository) == .unchecked)

        // The signed bytes changed after signing: bad.
        let payload = try #require(try repository.signature(of: signedID) as (signature: String, signedData: String)?)
        let tampered = try await verifier.check(signature: payload.signature, payload: payload.signedData.replacingOccurrences(of: "signed", with: "forged"))
        guard case .bad = tampered else { Issue.record("not bad: \(tampered)"); return }
        #expect(try await verifier.check(signature: "-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n", payload: "")
            == .unsupported(format: "OpenPGP"))

        // Alice's key revoked: the remembered state is forgotten, the same commit is now untrusted.
        try "bob@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJk9cJvv5X7mJ1UlDQ6w0g3uG3yL0xYtq6kq2Xo8lqfZ\n"
            .write(toFile: allowed, atomically: false, encoding: .utf8)
        let revoked = try await verifier.state(of: signedID, in: repository)
        guard case .untrusted = revoked else { Issue.record("not untrusted: \(revoked)"); return }

        // The range rule over the real commits: the unsigned root and the tip.
        try "alice@example.com \(key)\n".write(toFile: allowed, atomically: false, encoding: .utf8)
        let verdict = try await verifier.verdict(tip: signedID, applied: unsignedID, in: repository)
        #expect(verdict == .clean(accepted: []))
        #expect(try await verifier.verdict(tip: signedID, applied: nil, in: repository) == .clean(accepted: []),
                "with nothing applied, the tip alone is checked")
        guard case .refused = try await verifier.verdict(tip: unsignedID, applied: nil, in: repository) else {
            Issue.record("an unsigned tip was not refused"); return
        }
    }
}
