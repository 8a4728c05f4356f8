import Foundation

/// A folder of its own in the temporary folder for one test, removed with the value, so no test leaves anything
/// behind.
public final class TemporaryFolder: @unchecked Sendable {
    public let url: URL

    public var path: String { url.path }

    /// `prefix` names the folder (`pinwheel-<prefix>-<UUID>`), so a leftover says which tests made it.
    public init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
