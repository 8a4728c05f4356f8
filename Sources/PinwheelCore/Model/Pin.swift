/// One exact requirement of a slot: `name==version`, with optional hashes and environment marker.
public struct Pin: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The name as written in the slot file.
    public var name: String
    public var version: String
    /// `algorithm:hexdigest` values, passed to pip as `--hash=...` (with `--require-hashes`).
    public var hashes: [String]
    /// An environment marker (`python_version >= "3.10"`), passed through as written.
    public var marker: String?

    public init(name: String, version: String, hashes: [String] = [], marker: String? = nil) {
        self.name = name
        self.version = version
        self.hashes = hashes
        self.marker = marker
    }

    /// The name as PEP 503 normalises it; two pins with the same normalised name are the same package.
    public var normalizedName: String { Pin.normalize(name) }

    public static func normalize(_ name: String) -> String {
        var result = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { result.append("-") }
                lastWasSeparator = true
            } else {
                result.append(character)
                lastWasSeparator = false
            }
        }
        return result
    }

    /// The requirement line as pip reads it.
    public var requirement: String {
        var line = "\(name)==\(version)"
        if let marker { line += " ; \(marker)" }
        for hash in hashes { line += " --hash=\(hash)" }
        return line
    }

    public var description: String { "\(name)==\(version)" }

    /// A pin from its `name==version` form, as slot manifests record pins; nil for anything else.
    public init?(description: String) {
        let parts = description.components(separatedBy: "==")
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(name: parts[0], version: parts[1])
    }
}
