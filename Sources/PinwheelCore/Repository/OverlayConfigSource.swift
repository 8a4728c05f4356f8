import Foundation

/// A config source with some files replaced in memory: validates a change before it is committed.
public struct OverlayConfigSource: ConfigSource {
    public let base: any ConfigSource
    /// Repository-relative path → new content (files are only added or replaced, never removed).
    public let files: [String: Data]

    public init(base: any ConfigSource, files: [String: Data]) {
        self.base = base
        self.files = files
    }

    public func readFile(_ path: String) throws -> Data? {
        if let data = files[Self.normalize(path)] { return data }
        return try base.readFile(path)
    }

    public func entries(of path: String) throws -> [ConfigEntry]? {
        let folder = Self.normalize(path)
        var entries = try base.entries(of: path)
        for file in files.keys {
            let parent = file.split(separator: "/").dropLast().joined(separator: "/")
            guard parent == folder else { continue }
            let name = String(file.split(separator: "/").last ?? "")
            if entries == nil { entries = [] }
            if !entries!.contains(where: { $0.name == name }) {
                entries!.append(ConfigEntry(name: name, isDirectory: false))
            }
        }
        return entries?.sorted { $0.name < $1.name }
    }

    static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
