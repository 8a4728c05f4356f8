import Foundation

/// The keys a controller trusts to sign config commits, all files on the machine that checks, never from the
/// repository being checked: an SSH allowed-signers file (`ssh-keygen -Y verify`'s format) and a file of OpenPGP
/// public keys (`gpg --export [--armor]`'s output; GitHub's web-flow key signs the merges made on github.com).
///
/// With them, the operator's own rule: `requireSignatures` (`--require-signatures`) makes every environment, every
/// policy and every commit need a trusted signature, whatever the repository's policies say.
public struct TrustedKeys: Sendable, Hashable {
    public var allowedSigners: String?
    public var openPGPKeys: String?
    /// Every commit must be signed, in every environment: the operator's rule, not the repository's.
    public var requireSignatures: Bool

    public init(allowedSigners: String? = nil, openPGPKeys: String? = nil, requireSignatures: Bool = false) {
        self.allowedSigners = allowedSigners
        self.openPGPKeys = openPGPKeys
        self.requireSignatures = requireSignatures
    }

    /// No key at all: signatures are read but not checked.
    public var isEmpty: Bool { allowedSigners == nil && openPGPKeys == nil }

    /// The options that name them, for messages: `--allowed-signers or --openpgp-keys`.
    public static let options = "--allowed-signers or --openpgp-keys"
}
