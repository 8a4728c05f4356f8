import Foundation

/// A temporary folder removed when the value is dropped, with the example config at hand: the command-line suites'
/// working copy.
public final class TemporaryDirectory {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    public var path: String { url.path }

    public func write(_ path: String, _ text: String) throws {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }

    /// Copies the repository's own Environments/ and Policies/ here.
    public func copyExampleConfig() throws {
        for folder in ["Environments", "Policies"] {
            try FileManager.default.copyItem(at: Shell.packageRoot.appendingPathComponent(folder), to: url.appendingPathComponent(folder))
        }
    }
}
