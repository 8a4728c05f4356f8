/// What a commit's signature says, checked against the controller's trusted keys.
public enum SignatureState: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Signed by a trusted key: the principal the allowed-signers file names for it, and the key's fingerprint.
    case good(principal: String, key: String)
    /// No signature at all.
    case unsigned
    /// A valid SSH signature by a key the allowed-signers file does not name.
    case untrusted(key: String)
    /// A signature that does not verify (the commit was changed after signing, or the signature is damaged).
    case bad(reason: String)
    /// A signature Pinwheel does not check (OpenPGP, X.509): never trusted.
    case unsupported(format: String)
    /// Signed, but there were no trusted keys to check it against (no `--allowed-signers`).
    case unchecked

    /// Whether the commit counts as signed by a trusted key.
    public var isTrusted: Bool {
        if case .good = self { return true }
        return false
    }

    /// One word for tables and JSON: good, unsigned, untrusted, bad, unsupported, unchecked.
    public var word: String {
        switch self {
        case .good: return "good"
        case .unsigned: return "unsigned"
        case .untrusted: return "untrusted"
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
        case let .untrusted(key): return "signed by an untrusted key (\(key)), not in the controller's allowed signers"
        case let .bad(reason): return "bad signature: \(reason)"
        case let .unsupported(format): return "\(format) signature, not checked (only SSH signatures are)"
        case .unchecked: return "signed, not checked (no --allowed-signers given)"
        }
    }
}
