import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelGit

/// Checks commits' SSH signatures (git's `gpg.format=ssh`) with `ssh-keygen -Y`, against an allowed-signers file
/// on the machine that checks: the controller's `--allowed-signers`, never a file from the repository being checked.
///
/// An actor so that one verifier may be shared; it remembers the state of each commit it checked (a commit's
/// signature never changes), at most `cacheLimit` of them, and forgets them all when the allowed-signers file changes
/// (a key added or revoked counts from the next check).
public actor SignatureVerifier {
    /// The allowed-signers file (`principal key-type key` lines, as `ssh-keygen -Y verify` reads); nil: signatures
    /// are read but not checked.
    public let allowedSigners: String?
    let keygen: String
    let timeout: Duration
    private var cache: [ObjectID: SignatureState] = [:]
    /// The allowed-signers file's modification time and size when `cache` was filled.
    private var cachedFor: [String] = []
    let cacheLimit = 4096

    public init(allowedSigners: String?, keygen: String = "/usr/bin/ssh-keygen", timeout: Duration = .seconds(20)) {
        self.allowedSigners = allowedSigners
        self.keygen = keygen
        self.timeout = timeout
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

    /// The signature state of `commit`.
    public func state(of commit: ObjectID, in repository: Repository) async throws -> SignatureState {
        let version = allowedSignersVersion()
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
        guard allowedSigners != nil else { return nil }
        for commit in try repository.commits(from: tip, excluding: base) {
            let named = SignedRange.values(of: SignedRange.acceptRewriteTrailer, in: commit.trailers.map { ($0.key, $0.value) })
            guard named.contains(where: { $0.lowercased() == base.hex }) else { continue }
            if try await state(of: commit.id, in: repository).isTrusted { return commit }
        }
        return nil
    }

    /// Checks one signature over `payload` (the commit object without its `gpgsig` header).
    public func check(signature: String, payload: String) async throws -> SignatureState {
        guard signature.hasPrefix("-----BEGIN SSH SIGNATURE-----") else {
            if signature.contains("BEGIN PGP SIGNATURE") { return .unsupported(format: "OpenPGP") }
            if signature.contains("BEGIN SIGNED MESSAGE") { return .unsupported(format: "X.509") }
            return .unsupported(format: "an unknown kind of")
        }
        guard let allowedSigners else { return .unchecked }
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/commit.sig"
        guard FileManager.default.createFile(atPath: file, contents: Data(signature.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw OperationError(.failed, "cannot write \(file) to check a signature")
        }
        let found = try await run(["-Y", "find-principals", "-f", allowedSigners, "-s", file], input: "")
        var refusal = Self.restriction(in: found.standardError)
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

    /// What identifies the allowed-signers file's content cheaply: its modification time and size.
    private func allowedSignersVersion() -> [String] {
        guard let allowedSigners, let attributes = try? FileManager.default.attributesOfItem(atPath: allowedSigners) else { return [] }
        return ["\(attributes[.modificationDate] ?? "")", "\(attributes[.size] ?? "")"]
    }

    private func run(_ arguments: [String], input: String) async throws -> CommandOutput {
        do {
            return try await CommandRunner.run(keygen, arguments, input: input, timeout: timeout)
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
    static func temporaryFolder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/pinwheel-signature.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw OperationError(.failed, "cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
