import Foundation
import PinwheelCore

/// Reads the config repository from a folder on disk (a work tree, before anything is committed).
public struct DirectoryConfigSource: ConfigSource {
    public let root: URL

    public init(root: String) {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
    }

    public func readFile(_ path: String) throws -> Data? {
        let url = root.appendingPathComponent(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return nil
        }
        return try Data(contentsOf: url)
    }

    public func entries(of path: String) throws -> [ConfigEntry]? {
        let url = path.isEmpty ? root : root.appendingPathComponent(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().map { name in
            var entryIsDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path, isDirectory: &entryIsDirectory)
            return ConfigEntry(name: name, isDirectory: entryIsDirectory.boolValue)
        }
    }
}
