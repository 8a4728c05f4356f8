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
        let signing = try SigningRepository("verifier")
        let unsignedID = try signing.commit("unsigned", signed: false)
        let signedID = try signing.commit("signed", signed: true)
        let allowed = signing.allowedSigners
        let key = try signing.publicKey("alice")
        try "alice@example.com \(key)\n".write(toFile: allowed, atomically: false, encoding: .utf8)
        let repository = try signing.repository()
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

    /// The options of an allowed-signers line are ssh-keygen's to enforce, at the time of the check: a key outside its
    /// dates, or allowed for another namespace only, is `restricted` and says why; the same key in its window is good.
    @Test func allowedSignersOptionsRestrictAKeyAndSayWhy() async throws {
        let signing = try SigningRepository("verifier-options")
        let signed = try signing.commit("signed", signed: true)
        let repository = try signing.repository()
        let key = try signing.publicKey("alice")
        let allowed = signing.allowedSigners
        let verifier = SignatureVerifier(allowedSigners: allowed)

        let cases: [(options: String, reason: String?)] = [
            ("valid-before=\"20200101\"", "key has expired"),
            ("valid-after=\"29990101\"", "key is not yet valid"),
            ("namespaces=\"file\"", "not permitted for use in signature namespace"),
            ("valid-after=\"20200101\",valid-before=\"29990101\",namespaces=\"git\"", nil),
        ]
        for (options, reason) in cases {
            // A different size each time, so the verifier sees the file change.
            try "# \(options)\nalice@example.com \(options) \(key)\n".write(toFile: allowed, atomically: false, encoding: .utf8)
            let state = try await verifier.state(of: signed, in: repository)
            if let reason {
                guard case let .restricted(fingerprint, why) = state else { Issue.record("\(options): not restricted: \(state)"); continue }
                #expect(fingerprint.hasPrefix("ED25519 SHA256:"), "\(options)")
                #expect(why.contains(reason) && why.contains("allowed_signers:2"), "\(options): \(why)")
                #expect(!state.isTrusted)
            } else {
                guard case .good(principal: "alice@example.com", _) = state else { Issue.record("\(options): not good: \(state)"); continue }
            }
        }

        // Another key's expired line says nothing about Alice's key: hers is simply not trusted.
        let bob = try signing.newKey("bob")
        try "bob@example.com valid-before=\"20200101\" \(bob)\n".write(toFile: allowed, atomically: false, encoding: .utf8)
        guard case .untrusted = try await verifier.state(of: signed, in: repository) else {
            Issue.record("a key the file does not name is not untrusted"); return
        }
    }
}

/// A git repository in a temporary folder whose commits git signs with Alice's new ed25519 key (`gpg.format=ssh`).
final class SigningRepository {
    private let temporary: TemporaryFolder
    let work: String
    var folder: String { temporary.path }
    var allowedSigners: String { folder + "/allowed_signers" }

    init(_ name: String) throws {
        temporary = try TemporaryFolder(name)
        work = temporary.path + "/work"
        _ = try newKey("alice")
        try Program.run("/usr/bin/git", ["init", "-q", "-b", "main", work])
    }

    /// Makes an empty commit on main, signed by Alice or not.
    func commit(_ message: String, signed: Bool) throws -> ObjectID {
        let git = ["-C", work, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "-c", "gpg.format=ssh",
                   "-c", "user.signingkey=\(folder)/alice"]
        try Program.run("/usr/bin/git", git + ["commit", "-q", "--allow-empty", signed ? "-S" : "--no-gpg-sign", "-m", message])
        return try #require(ObjectID(hex: try Program.run("/usr/bin/git", git + ["rev-parse", "HEAD"])))
    }

    /// Creates the key `name` in the folder; its public key as an allowed-signers line has it (`ssh-ed25519 AAAA…`).
    func newKey(_ name: String) throws -> String {
        try Program.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", "\(folder)/\(name)"])
        return try publicKey(name)
    }

    func publicKey(_ name: String) throws -> String {
        try String(contentsOfFile: "\(folder)/\(name).pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
    }

    func repository() throws -> Repository {
        try Repository(openingAt: work)
    }
}
