/// One file the controller ships to hosts: a wheel or an sdist, named as the installer needs it, and the SHA-256
/// that both ends check it against.
public struct ShippedArtifact: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file's name (`hello_service-1.0.0-py3-none-any.whl`): installers read the name, version and tags from it.
    public var name: String
    /// Lowercase hex, 64 digits.
    public var sha256: String
    public var size: Int

    public init(name: String, sha256: String, size: Int) {
        self.name = name
        self.sha256 = sha256
        self.size = size
    }

    public var description: String { "\(name) (sha256:\(sha256.prefix(12))…)" }

    /// Whether `name` can be a file's name in a folder and an installer's argument: no folder, no leading dot or dash,
    /// a wheel's or an sdist's ending. Names come from an index or a folder, so they are checked before use.
    public static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, let first = name.first, first != ".", first != "-" else { return false }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-+!".contains($0)) }) else { return false }
        return ArtifactChoice.Kind(of: name) != nil
    }

    /// Whether `hex` is a SHA-256 in lowercase hex.
    public static func isSHA256(_ hex: String) -> Bool {
        hex.utf8.count == 64 && hex.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
