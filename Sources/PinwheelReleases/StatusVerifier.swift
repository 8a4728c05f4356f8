import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelProcess

/// Checks that a status commit was signed by the controller: an SSH signature in git's format, intact
/// (`ssh-keygen -Y check-novalidate -n git`), by one of the public keys the operator gave (`--status-signing-key`'s
/// `.pub`, `--trusted-status-key`), compared by SHA256 fingerprint. Never a key from the repository.
///
/// An actor so that one verifier may be shared; it remembers each commit's state (a commit's signature never
/// changes), at most `cacheLimit` of them.
public actor StatusVerifier {
    /// The trusted keys' fingerprints (`SHA256:…`), with the file each came from.
    public let fingerprints: [String: String]
    let keygen: String
    let timeout: Duration
    private var cache: [ObjectID: StatusSignature] = [:]
    let cacheLimit = 4096

    /// - Throws: ``OperationError/Code/invalid`` when a file holds no SSH public key.
    public init(publicKeys: [String], keygen: String = "/usr/bin/ssh-keygen", timeout: Duration = .seconds(20)) throws {
        var fingerprints: [String: String] = [:]
        for path in publicKeys {
            let name = (path as NSString).lastPathComponent
            guard let data = FileManager.default.contents(atPath: path) else {
                throw OperationError(.invalid, "\(name) cannot be read: give the controller's public SSH key (a `.pub` file)")
            }
            let found = Self.fingerprints(inPublicKeys: String(decoding: data, as: UTF8.self))
            guard !found.isEmpty else {
                throw OperationError(.invalid, "\(name) holds no SSH public key (`ssh-ed25519 AAAA… comment` lines)")
            }
            for fingerprint in found { fingerprints[fingerprint] = name }
        }
        self.fingerprints = fingerprints
        self.keygen = keygen
        self.timeout = timeout
    }

    /// The SHA256 fingerprints (`SHA256:…`, as ssh-keygen prints them) of the keys in a public-key file: each line's
    /// first base64 field after a key type (`ssh-ed25519`, `ecdsa-sha2-…`, `sk-…`, `ssh-rsa`), so `authorized_keys`
    /// and allowed-signers lines read as well. Lines that hold none are skipped.
    public static func fingerprints(inPublicKeys text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let type = fields.firstIndex(where: { $0.hasPrefix("ssh-") || $0.hasPrefix("ecdsa-") || $0.hasPrefix("sk-") }),
                  type + 1 < fields.count, let blob = Data(base64Encoded: fields[type + 1]), !blob.isEmpty else { return nil }
            return fingerprint(of: blob)
        }
    }

    /// `SHA256:` and the unpadded base64 of the key blob's SHA-256: OpenSSH's fingerprint.
    static func fingerprint(of blob: Data) -> String {
        let hex = Array(ContentDigest.hex(of: blob).utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < hex.count {
            bytes.append(UInt8(String(decoding: hex[index...index + 1], as: UTF8.self), radix: 16) ?? 0)
            index += 2
        }
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }

    /// The signature state of the status commit `commit`. Never throws: what cannot be checked is not believed.
    public func state(of commit: ObjectID, in repository: Repository) async -> StatusSignature {
        if let known = cache[commit] { return known }
        let state: StatusSignature
        do {
            if let signed = try repository.signature(of: commit) {
                state = try await check(signature: signed.signature, payload: signed.signedData)
            } else {
                state = .unsigned
            }
        } catch {
            // Not remembered: a missing program may be installed before the next read.
            return .unreadable(reason: "\(error)")
        }
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[commit] = state
        return state
    }

    /// Checks one signature over `payload` (the commit object without its `gpgsig` header).
    public func check(signature: String, payload: String) async throws -> StatusSignature {
        guard signature.hasPrefix("-----BEGIN SSH SIGNATURE-----") else {
            return .bad(reason: "not an SSH signature")
        }
        let folder = try SignatureVerifier.temporaryFolder(prefix: "pinwheel-status-signature")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try SignatureVerifier.write(signature, to: folder + "/status.sig")
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(keygen, ["-Y", "check-novalidate", "-n", "git", "-s", file],
                                                 input: payload, timeout: timeout)
        } catch {
            throw OperationError(.failed, "cannot run \(keygen) to check a status signature: \(error)",
                                 hint: "install openssh-client (scripts/setup does)")
        }
        guard output.status == 0 else {
            let reason = SignatureVerifier.firstLine(output.standardError) ?? "it does not verify"
            return .bad(reason: UntrustedText.escaped(UntrustedText.bounded(reason, limit: 300)))
        }
        let key = SignatureVerifier.key(in: output.standardOutput)
        guard let fingerprint = key.split(separator: " ").map(String.init).first(where: { $0.hasPrefix("SHA256:") }) else {
            return .bad(reason: "ssh-keygen named no key fingerprint")
        }
        return fingerprints[fingerprint] != nil ? .verified(key: key) : .untrusted(key: key)
    }
}
