/// What a commit's signature says, checked against the controller's trusted keys.
public enum SignatureState: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Signed by a trusted key: the principal the allowed-signers file names for it (an OpenPGP key's user ID), and
    /// the key's fingerprint.
    case good(principal: String, key: String)
    /// No signature at all.
    case unsigned
    /// A valid SSH signature by a key the allowed-signers file does not name, or an OpenPGP signature by a key not
    /// among the trusted ones.
    case untrusted(key: String)
    /// A valid SSH signature by a key the allowed-signers file names, on a line whose options do not allow this
    /// signature now: outside its `valid-after`/`valid-before` dates, or `namespaces` without git. For OpenPGP: a
    /// trusted key that has expired or was revoked, or a signature that has expired. Distinct from
    /// ``untrusted(key:)`` so that an auditor reads "the key expired", not "nobody ever trusted this key".
    case restricted(key: String, reason: String)
    /// A signature that does not verify (the commit was changed after signing, or the signature is damaged).
    case bad(reason: String)
    /// A signature Pinwheel does not check (X.509, or OpenPGP without `--openpgp-keys`): never trusted.
    case unsupported(format: String)
    /// Signed, but there were no trusted keys to check it against (no `--allowed-signers`, no `--openpgp-keys`).
    case unchecked

    /// Whether the commit counts as signed by a trusted key.
    public var isTrusted: Bool {
        if case .good = self { return true }
        return false
    }

    /// One word for tables and JSON: good, unsigned, untrusted, restricted, bad, unsupported, unchecked.
    public var word: String {
        switch self {
        case .good: return "good"
        case .unsigned: return "unsigned"
        case .untrusted: return "untrusted"
        case .restricted: return "restricted"
        case .bad: return "bad"
        case .unsupported: return "unsupported"
        case .unchecked: return "unchecked"
        }
    }

    /// What a person reads: `good signature by alice (ED25519 SHA256:…)`, `unsigned`, ...
    public var description: String {
        switch self {
        case let .good(principal, key): return "good signature by \(principal) (\(key))"
        case .unsigned: return "unsigned"
        case let .untrusted(key): return "signed by an untrusted key (\(key)), not among the controller's trusted keys"
        case let .restricted(key, reason): return "signed by a key (\(key)) the controller's trusted keys do not allow here: \(reason)"
        case let .bad(reason): return "bad signature: \(reason)"
        case .unsupported("OpenPGP"): return "OpenPGP signature, not checked (no --openpgp-keys given)"
        case let .unsupported(format): return "\(format) signature, not checked (only SSH and OpenPGP signatures are)"
        case .unchecked: return "signed, not checked (no --allowed-signers or --openpgp-keys given)"
        }
    }
}
