import Foundation
import PinwheelCore

/// Reads a target's URL where the config says it is — an environment variable or a file on the controller — at
/// the moment it is needed, so a rotated secret is picked up without a restart. Errors say where the URL was
/// looked for, never what it holds.
public enum NotificationURL {
    public static func read(_ location: NotifyTarget.SecretLocation,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(NotificationURLError) -> URL {
        let text: String
        switch location {
        case let .environment(name):
            guard let value = environment[name], !value.isEmpty else {
                throw NotificationURLError("\(location) is not set in the controller's environment")
            }
            text = value
        case let .file(path):
            // Only a regular file, read up to 64 KiB: a policy naming /dev/zero or a FIFO must not hang or fill memory.
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let handle = FileHandle(forReadingAtPath: path) else {
                throw NotificationURLError("\(location) cannot be read (missing, unreadable or not a regular file)")
            }
            defer { try? handle.close() }
            let data: Data
            do {
                data = try handle.read(upToCount: 65537) ?? Data()
            } catch {
                throw NotificationURLError("\(location) cannot be read")
            }
            guard data.count <= 65536 else { throw NotificationURLError("\(location) is larger than 64 KiB") }
            text = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = url.host, !host.isEmpty else {
            throw NotificationURLError("\(location) does not hold an http:// or https:// URL")
        }
        return url
    }

    /// What may be logged of a URL: its scheme, host and port. Paths, queries and user info carry tokens.
    public static func origin(of url: URL) -> String {
        "\(url.scheme ?? "?")://\(url.host ?? "?")" + (url.port.map { ":\($0)" } ?? "")
    }
}

public struct NotificationURLError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
