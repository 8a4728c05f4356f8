import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelProcess

/// Checks commits' signatures against keys on the machine that checks, never a file from the repository being
/// checked: SSH signatures (git's `gpg.format=ssh`) with `ssh-keygen -Y` against the controller's `--allowed-signers`,
/// OpenPGP signatures with `gpgv` against its `--openpgp-keys`.
///
/// An actor so that one verifier may be shared; it remembers the state of each commit it checked (a commit's
/// signature never changes), at most `cacheLimit` of them, and forgets them all when a key file changes (a key added
/// or revoked counts from the next check).
public actor SignatureVerifier {
    /// The keys trusted; none: signatures are read but not checked.
    public let trusted: TrustedKeys
    /// The allowed-signers file (`principal key-type key` lines, as `ssh-keygen -Y verify` reads).
    public var allowedSigners: String? { trusted.allowedSigners }
    let keygen: String
    let gpgv: String
    let timeout: Duration
    private var cache: [ObjectID: SignatureState] = [:]
    /// The key files' modification times and sizes when `cache` was filled.
    private var cachedFor: [String] = []
    let cacheLimit = 4096

    public init(trusted: TrustedKeys, keygen: String = "/usr/bin/ssh-keygen", gpgv: String = "/usr/bin/gpgv",
                timeout: Duration = .seconds(20)) {
        self.trusted = trusted
        self.keygen = keygen
        self.gpgv = gpgv
        self.timeout = timeout
    }

    public init(allowedSigners: String?) {
        self.init(trusted: TrustedKeys(allowedSigners: allowedSigners))
    }

    /// Whether `path` is an allowed-signers file ssh-keygen can read: an error message saying what is wrong, or nil.
    public static func problem(with path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return "\(path) is not a file: give an allowed-signers file (`alice@example.com ssh-ed25519 AAAA…` lines)"
        }
        guard FileManager.default.isReadableFile(atPath: path) else { return "\(path) cannot be read" }
        return nil
    }

    /// Whether `path` is a file of OpenPGP public keys gpgv can use: an error message saying what is wrong, or nil.
    public static func openPGPProblem(with path: String) -> String? {
        guard let contents = FileManager.default.contents(atPath: path) else {
            return "\(path) cannot be read: give a file of OpenPGP public keys (`gpg --export --armor KEY-ID > FILE`)"
        }
        do {
            _ = try OpenPGPKeyring.binary(contents)
            return nil
        } catch {
            return "\(path): \(error)"
        }
    }

    /// The signature state of `commit`.
    public func state(of commit: ObjectID, in repository: Repository) async throws -> SignatureState {
        let version = keysVersion()
        if version != cachedFor {
            cache.removeAll()
            cachedFor = version
        }
        if let known = cache[commit] { return known }
        let state: SignatureState
        if let signed = try repository.signature(of: commit) {
            state = try await check(signature: signed.signature, payload: signed.signedData)
        } else {
            state = .unsigned
        }
        // A restricted key may become valid (valid-after) without the file changing: checked again each time.
        if case .restricted = state { return state }
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[commit] = state
        return state
    }

    /// The verdict on the commits reachable from `tip` and not from `applied` (the tip alone when nothing was applied).
    public func verdict(tip: ObjectID, applied: ObjectID?, in repository: Repository) async throws -> SignedRange.Verdict {
        let commits = try applied.map { try repository.commits(from: tip, excluding: $0) } ?? [repository.commitInfo(tip)]
        var checked: [SignedRange.Commit] = []
        for commit in commits {
            checked.append(SignedRange.Commit(
                id: commit.id.hex, author: "\(commit.author.name) <\(commit.author.email)>", summary: commit.summary,
                signature: try await state(of: commit.id, in: repository),
                accepts: SignedRange.accepts(in: commit.trailers.map { ($0.key, $0.value) })))
        }
        return SignedRange.verdict(checked)
    }

    /// The marker commit that accepts a rewritten history: a commit reachable from `tip` and not from `base` (the
    /// last applied commit, which `tip` does not descend from), signed by a trusted key, whose trailer
    /// `Pinwheel-Accept-Rewrite:` names `base` in full. Nil when there is none (or no trusted keys).
    public func rewriteMarker(tip: ObjectID, base: ObjectID, in repository: Repository) async throws -> CommitInfo? {
        guard !trusted.isEmpty else { return nil }
        for commit in try repository.commits(from: tip, excluding: base) {
            let named = SignedRange.values(of: SignedRange.acceptRewriteTrailer, in: commit.trailers.map { ($0.key, $0.value) })
            guard named.contains(where: { $0.lowercased() == base.hex }) else { continue }
            if try await state(of: commit.id, in: repository).isTrusted { return commit }
        }
        return nil
    }

    /// Checks one signature over `payload` (the commit object without its `gpgsig` header).
    public func check(signature: String, payload: String) async throws -> SignatureState {
        if trusted.isEmpty { return .unchecked }
        guard signature.hasPrefix("-----BEGIN SSH SIGNATURE-----") else {
            if signature.contains("BEGIN PGP SIGNATURE") {
                guard let keys = trusted.openPGPKeys else { return .unsupported(format: "OpenPGP") }
                return try await checkOpenPGP(signature: signature, payload: payload, keys: keys)
            }
            if signature.contains("BEGIN SIGNED MESSAGE") { return .unsupported(format: "X.509") }
            return .unsupported(format: "an unknown kind of")
        }
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try Self.write(signature, to: folder + "/commit.sig")
        var refusal: String?
        if let allowedSigners {
            let found = try await run(["-Y", "find-principals", "-f", allowedSigners, "-s", file], input: "")
            refusal = Self.restriction(in: found.standardError)
            if found.status == 0 {
                let principals = found.standardOutput.split(whereSeparator: \.isNewline)
                    .flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                for principal in principals {
                    let verified = try await run(["-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", "git", "-s", file],
                                                 input: payload)
                    if verified.status == 0 {
                        return .good(principal: principal, key: Self.key(in: verified.standardOutput))
                    }
                    refusal = refusal ?? Self.restriction(in: verified.standardError) ?? Self.firstLine(verified.standardError)
                }
            }
        }
        // No trusted principal verified it: whether the signature itself is intact decides between a key that is not
        // (or not now, or not for git) trusted and a commit changed after signing.
        let checked = try await run(["-Y", "check-novalidate", "-n", "git", "-s", file], input: payload)
        guard checked.status == 0 else {
            return .bad(reason: Self.firstLine(checked.standardError) ?? refusal ?? "it does not verify")
        }
        let key = Self.key(in: checked.standardOutput)
        if let refusal { return .restricted(key: key, reason: refusal) }
        return .untrusted(key: key)
    }

    /// ssh-keygen's reason when the allowed-signers line that names the key does not allow the signature: `…:3: key
    /// has expired: verify time … > valid-before …`, `key is not yet valid`, `key is not permitted for use in
    /// signature namespace "git"`. Only the line naming the signing key is reported, so this is about that key.
    static func restriction(in standardError: String) -> String? {
        let markers = ["key has expired", "key is not yet valid", "not permitted for use in signature namespace"]
        return standardError.split(whereSeparator: \.isNewline).map(String.init)
            .first { line in markers.contains { line.contains($0) } }?
            .trimmingCharacters(in: .whitespaces)
    }

    /// Checks an OpenPGP signature with gpgv against the keys in `keys`, in a private folder (gpgv's home and the
    /// binary keyring it needs) removed afterwards. gpgv's status lines say which key made it and what became of it.
    func checkOpenPGP(signature: String, payload: String, keys: String) async throws -> SignatureState {
        guard let contents = FileManager.default.contents(atPath: keys) else {
            throw OperationError(.failed, "cannot read \(keys), the OpenPGP keys to check a signature against")
        }
        let keyring: Data
        do {
            keyring = try OpenPGPKeyring.binary(contents)
        } catch {
            throw OperationError(.failed, "\(keys): \(error)")
        }
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let home = folder + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        let keyringFile = try Self.write(keyring, to: folder + "/trusted.gpg")
        let signatureFile = try Self.write(Data(signature.utf8), to: folder + "/commit.asc")
        let payloadFile = try Self.write(Data(payload.utf8), to: folder + "/commit")
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(gpgv, ["--homedir", home, "--keyring", keyringFile, "--status-fd", "1",
                                                        signatureFile, payloadFile], input: "", timeout: timeout)
        } catch {
            throw OperationError(.failed, "cannot run \(gpgv) to check a signature: \(error)",
                                 hint: "install gpgv (scripts/setup does)")
        }
        return Self.openPGPState(status: output.standardOutput, standardError: output.standardError)
    }

    /// The state gpgv's `--status-fd` lines describe (GnuPG's doc/DETAILS): `GOODSIG`, `EXPKEYSIG`, `REVKEYSIG` and
    /// `EXPSIG` with `VALIDSIG` carry the key's fingerprint; `BADSIG` a signature that does not match; `ERRSIG` with
    /// `NO_PUBKEY` a key that is not among the trusted ones.
    static func openPGPState(status: String, standardError: String) -> SignatureState {
        var words: [String: [String]] = [:]
        for line in status.split(whereSeparator: \.isNewline) where line.hasPrefix("[GNUPG:] ") {
            let fields = line.dropFirst("[GNUPG:] ".count).split(separator: " ", maxSplits: 2).map(String.init)
            if let keyword = fields.first, words[keyword] == nil { words[keyword] = Array(fields.dropFirst()) }
        }
        let fingerprint = words["VALIDSIG"]?.first.map { "OpenPGP \($0)" }
        func key(_ fields: [String]?) -> String { fingerprint ?? "OpenPGP key \(fields?.first ?? "unknown")" }
        if let good = words["GOODSIG"], good.count == 2, let fingerprint, words["EXPSIG"] == nil {
            return .good(principal: good[1], key: fingerprint)
        }
        if let fields = words["EXPKEYSIG"] { return .restricted(key: key(fields), reason: "the key has expired") }
        if let fields = words["REVKEYSIG"] { return .restricted(key: key(fields), reason: "the key was revoked") }
        if let fields = words["EXPSIG"] { return .restricted(key: key(fields), reason: "the signature has expired") }
        if words["BADSIG"] != nil { return .bad(reason: "gpgv: BAD signature") }
        if let fields = words["NO_PUBKEY"] { return .untrusted(key: "OpenPGP key \(fields.first ?? "unknown")") }
        let reason = standardError.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) }
        return .bad(reason: reason ?? "gpgv could not check it")
    }

    /// What identifies the key files' content cheaply: their modification times and sizes.
    private func keysVersion() -> [String] {
        [trusted.allowedSigners, trusted.openPGPKeys].map { path in
            guard let path, let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "-" }
            return "\(attributes[.modificationDate] ?? "") \(attributes[.size] ?? "")"
        }
    }

    /// Writes `data` to a new file readable by this user only.
    static func write(_ data: Data, to path: String) throws -> String {
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw OperationError(.failed, "cannot write \(path) to check a signature")
        }
        return path
    }

    static func write(_ text: String, to path: String) throws -> String {
        try write(Data(text.utf8), to: path)
    }

    private func run(_ arguments: [String], input: String) async throws -> ProcessOutput {
        do {
            return try await ProcessRunner.run(keygen, arguments, input: input, timeout: timeout)
        } catch {
            throw OperationError(.failed, "cannot run \(keygen) to check a signature: \(error)",
                                 hint: "install openssh-client (scripts/setup does)")
        }
    }

    /// `ED25519 key SHA256:…` from `Good "git" signature for alice with ED25519 key SHA256:…`.
    static func key(in output: String) -> String {
        guard let line = firstLine(output), let range = line.range(of: " with ", options: .backwards) else { return "unknown key" }
        return String(line[range.upperBound...]).replacingOccurrences(of: " key ", with: " ")
    }

    static func firstLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    /// A private folder for the signature file, removed by the caller.
    static func temporaryFolder(prefix: String = "pinwheel-signature") throws -> String {
        var template = Array((NSTemporaryDirectory() + "/\(prefix).XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw OperationError(.failed, "cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
