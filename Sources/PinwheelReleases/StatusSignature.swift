/// Whether a status commit was written by the controller: signed by one of the keys it trusts for statuses
/// (``StatusVerifier``). Only a verified status is believed after a restart; `history` shows each one's state.
public enum StatusSignature: Sendable, Hashable {
    /// Signed by a trusted status key (`ED25519 SHA256:…`).
    case verified(key: String)
    case unsigned
    /// An intact SSH signature by a key the controller does not trust for statuses.
    case untrusted(key: String)
    /// A signature that does not verify (the commit was changed after signing), or is not an SSH signature.
    case bad(reason: String)
    /// It could not be checked (ssh-keygen missing or failing): not believed.
    case unreadable(reason: String)

    public var isVerified: Bool {
        if case .verified = self { return true }
        return false
    }

    /// `verified`, `unsigned`, `untrusted`, `bad`, `unreadable`: the JSON's `signature` field.
    public var word: String {
        switch self {
        case .verified: "verified"
        case .unsigned: "unsigned"
        case .untrusted: "untrusted"
        case .bad: "bad"
        case .unreadable: "unreadable"
        }
    }

    /// What the state means, in a sentence's words.
    public var description: String {
        switch self {
        case let .verified(key): "verified: signed by the controller's key \(key)"
        case .unsigned: "unsigned"
        case let .untrusted(key): "signed by \(key), which is not a trusted status key"
        case let .bad(reason): "bad signature: \(reason)"
        case let .unreadable(reason): "its signature could not be checked: \(reason)"
        }
    }
}
