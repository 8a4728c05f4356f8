/// What a policy requires of the commits the controller applies: `verify: {signatures: required}`.
///
/// The keys a signature is checked against never come from here (nor from anywhere in the repository being
/// verified): they are the controller's own (`watch --allowed-signers`), so the people the rule constrains cannot
/// change whom it trusts.
public struct Verification: Sendable, Hashable, Codable {
    public var signatures: SignatureRule

    public init(signatures: SignatureRule = .optional) {
        self.signatures = signatures
    }

    public enum SignatureRule: String, Sendable, Hashable, Codable, CaseIterable {
        /// Every commit between the last applied commit and the new tip must be signed by a trusted key.
        case required
        /// Signatures are shown (`history`, `validate --rev`) but not enforced.
        case optional
    }

    public var requiresSignatures: Bool { signatures == .required }
}
