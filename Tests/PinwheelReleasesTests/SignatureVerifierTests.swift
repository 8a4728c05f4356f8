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

/// OpenPGP signatures (gpg, GitHub's web-flow merges) checked with gpgv against `--openpgp-keys`.
@Suite("OpenPGP signatures")
struct OpenPGPSignatureTests {
    @Test func aCommitSignedWithGPGIsGoodUnderItsKeyArmoredOrBinaryAndUntrustedOrBadOtherwise() async throws {
        let signing = try SigningRepository("openpgp")
        let carol = try signing.newOpenPGPKey("Carol <carol@example.com>")
        let dave = try signing.newOpenPGPKey("Dave <dave@example.com>")
        let signed = try signing.commitSignedWithOpenPGP("signed by carol", as: "carol@example.com")
        let repository = try signing.repository()
        let armored = signing.folder + "/trusted.asc"
        try carol.write(toFile: armored, atomically: false, encoding: .utf8)
        let binary = signing.folder + "/trusted.gpg"
        try signing.openPGPKeyBinary("carol@example.com", to: binary)
        #expect(try OpenPGPKeyring.binary(Data(contentsOf: URL(fileURLWithPath: armored))) == Data(contentsOf: URL(fileURLWithPath: binary)),
                "the armor decodes to gpg's binary export")

        for keys in [armored, binary] {
            let state = try await SignatureVerifier(trusted: TrustedKeys(openPGPKeys: keys)).state(of: signed, in: repository)
            guard case let .good(principal, key) = state else { Issue.record("\(keys): not good: \(state)"); continue }
            #expect(principal == "Carol <carol@example.com>")
            #expect(key.hasPrefix("OpenPGP ") && key.count == "OpenPGP ".count + 40, "\(key)")
        }

        // Only Dave trusted: Carol's signature is untrusted. Only SSH keys trusted: OpenPGP is not checked.
        let daveOnly = signing.folder + "/dave.asc"
        try dave.write(toFile: daveOnly, atomically: false, encoding: .utf8)
        let untrusted = try await SignatureVerifier(trusted: TrustedKeys(openPGPKeys: daveOnly)).state(of: signed, in: repository)
        guard case let .untrusted(key) = untrusted else { Issue.record("not untrusted: \(untrusted)"); return }
        #expect(key.hasPrefix("OpenPGP key "))
        let allowed = signing.allowedSigners
        try "alice@example.com \(try signing.publicKey("alice"))\n".write(toFile: allowed, atomically: false, encoding: .utf8)
        #expect(try await SignatureVerifier(trusted: TrustedKeys(allowedSigners: allowed)).state(of: signed, in: repository)
            == .unsupported(format: "OpenPGP"))

        // The signed bytes changed after signing: bad.
        let verifier = SignatureVerifier(trusted: TrustedKeys(openPGPKeys: armored))
        let payload = try #require(try repository.signature(of: signed) as (signature: String, signedData: String)?)
        let tampered = try await verifier.check(signature: payload.signature,
                                                payload: payload.signedData.replacingOccurrences(of: "signed by carol", with: "signed by mallory"))
        guard case .bad = tampered else { Issue.record("not bad: \(tampered)"); return }

        // An SSH-signed commit, with only OpenPGP keys trusted: untrusted, not unchecked.
        let sshSigned = try signing.commit("ssh", signed: true)
        guard case .untrusted = try await verifier.state(of: sshSigned, in: repository) else {
            Issue.record("an SSH signature with no allowed signers is not untrusted"); return
        }
    }

    @Test func gpgvStatusLinesMapToStates() {
        let fingerprint = "9D29E0E3ECFED02DB65532D615F6E3C990CC46DC"
        let valid = "[GNUPG:] VALIDSIG \(fingerprint) 2026-11-24 1795510264 0 4 0 22 8 00 \(fingerprint)\n"
        #expect(SignatureVerifier.openPGPState(status: "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 15F6E3C990CC46DC Carol <carol@example.com>\n" + valid,
                                               standardError: "") == .good(principal: "Carol <carol@example.com>", key: "OpenPGP \(fingerprint)"))
        #expect(SignatureVerifier.openPGPState(status: "[GNUPG:] EXPKEYSIG 15F6E3C990CC46DC Carol <carol@example.com>\n" + valid,
                                               standardError: "") == .restricted(key: "OpenPGP \(fingerprint)", reason: "the key has expired"))
        #expect(SignatureVerifier.openPGPState(status: "[GNUPG:] REVKEYSIG 15F6E3C990CC46DC Carol <carol@example.com>\n" + valid,
                                               standardError: "") == .restricted(key: "OpenPGP \(fingerprint)", reason: "the key was revoked"))
        #expect(SignatureVerifier.openPGPState(status: "[GNUPG:] GOODSIG 15F6E3C990CC46DC Carol\n[GNUPG:] EXPSIG 15F6E3C990CC46DC Carol\n" + valid,
                                               standardError: "") == .restricted(key: "OpenPGP \(fingerprint)", reason: "the signature has expired"))
        #expect(SignatureVerifier.openPGPState(status: "[GNUPG:] BADSIG 15F6E3C990CC46DC Carol <carol@example.com>\n",
                                               standardError: "") == .bad(reason: "gpgv: BAD signature"))
        #expect(SignatureVerifier.openPGPState(status: "[GNUPG:] ERRSIG 15F6E3C990CC46DC 22 8 00 1795510264 9 \(fingerprint)\n"
                                               + "[GNUPG:] NO_PUBKEY 15F6E3C990CC46DC\n", standardError: "")
            == .untrusted(key: "OpenPGP key 15F6E3C990CC46DC"))
        // GOODSIG without VALIDSIG is not enough to trust.
        guard case .bad = SignatureVerifier.openPGPState(status: "[GNUPG:] GOODSIG 15F6E3C990CC46DC Carol\n",
                                                         standardError: "gpgv: something odd") else {
            Issue.record("GOODSIG alone was accepted"); return
        }
    }

    @Test func aKeyFileThatIsNotOpenPGPIsRefusedWithWhatToDo() throws {
        let folder = try TemporaryFolder("openpgp-keys")
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/keys.txt"
        try "alice@example.com ssh-ed25519 AAAA\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(SignatureVerifier.openPGPProblem(with: path)?.contains("gpg --export --armor") == true)
        try "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!not base64\n-----END PGP PUBLIC KEY BLOCK-----\n"
            .write(toFile: path, atomically: false, encoding: .utf8)
        #expect(SignatureVerifier.openPGPProblem(with: path)?.contains("not valid base64") == true)
        #expect(SignatureVerifier.openPGPProblem(with: folder.path + "/missing")?.contains("cannot be read") == true)
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

    // MARK: OpenPGP

    /// gpg's home for this repository's OpenPGP keys; its agent is stopped when the repository goes away.
    var gnupgHome: String { folder + "/gnupg" }

    /// Creates an OpenPGP ed25519 key for `uid` (`Carol <carol@example.com>`) and returns its public key, armored.
    func newOpenPGPKey(_ uid: String) throws -> String {
        try FileManager.default.createDirectory(atPath: gnupgHome, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try Program.run("/usr/bin/gpg", ["--batch", "--quiet", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
                        environment: ["GNUPGHOME": gnupgHome])
        return try Program.run("/usr/bin/gpg", ["--armor", "--export", uid], environment: ["GNUPGHOME": gnupgHome])
    }

    /// The binary export of `uid`'s public key.
    func openPGPKeyBinary(_ uid: String, to path: String) throws {
        try Program.run("/usr/bin/gpg", ["--output", path, "--export", uid], environment: ["GNUPGHOME": gnupgHome])
    }

    /// Makes an empty commit on main that git signs with gpg as `email`.
    func commitSignedWithOpenPGP(_ message: String, as email: String) throws -> ObjectID {
        let git = ["-C", work, "-c", "user.name=Carol", "-c", "user.email=\(email)", "-c", "gpg.format=openpgp",
                   "-c", "gpg.program=/usr/bin/gpg", "-c", "user.signingkey=\(email)"]
        try Program.run("/usr/bin/git", git + ["commit", "-q", "--allow-empty", "-S", "-m", message],
                        environment: ["GNUPGHOME": gnupgHome])
        return try #require(ObjectID(hex: try Program.run("/usr/bin/git", git + ["rev-parse", "HEAD"])))
    }

    deinit {
        if FileManager.default.fileExists(atPath: gnupgHome) {
            _ = try? Program.run("/usr/bin/gpgconf", ["--kill", "all"], environment: ["GNUPGHOME": gnupgHome])
        }
    }
}
