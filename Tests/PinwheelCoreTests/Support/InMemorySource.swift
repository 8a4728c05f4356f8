import Foundation
import PinwheelCore

/// A config repository held in memory: paths to bytes. Folders are implied by the paths.
struct InMemorySource: ConfigSource {
    var files: [String: Data]

    init(_ files: [String: String]) {
        self.files = files.mapValues { Data($0.utf8) }
    }

    func readFile(_ path: String) throws -> Data? {
        files[path]
    }

    func entries(of path: String) throws -> [ConfigEntry]? {
        let prefix = path.isEmpty ? "" : path + "/"
        var entries: [String: Bool] = [:]
        for file in files.keys where file.hasPrefix(prefix) {
            let rest = file.dropFirst(prefix.count)
            let parts = rest.split(separator: "/", maxSplits: 1)
            guard let first = parts.first else { continue }
            entries[String(first), default: false] = entries[String(first), default: false] || parts.count > 1
        }
        guard !entries.isEmpty else { return nil }
        return entries.keys.sorted().map { ConfigEntry(name: $0, isDirectory: entries[$0]!) }
    }
}
