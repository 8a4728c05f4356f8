import Foundation

/// Where the webhook secret comes from. Secrets are never read from the config repository: the
/// repository is shared with every reviewer, and a secret committed there is a secret given away.
/// The controller names the variable or the file, and loads the secret once, at start, so that a
/// misconfiguration fails loudly then rather than on the first push.
public enum WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable of the controller's process, by name.
    case environment(String)
    /// A file on the controller's machine, by path; one trailing newline (as editors and `echo`
    /// leave) is trimmed.
    case file(String)

    /// Reads the secret now.
    ///
    /// - Parameter environment: the environment to read `.environment` secrets from; the process's own
    ///   by default, another in tests.
    /// - Throws: ``WebhookSecretError`` when the variable or file is missing, unreadable or empty.
    public func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(WebhookSecretError) -> SecretBytes {
        switch self {
        case .environment(let name):
            guard let value = environment[name] else {
                throw .environmentVariableMissing(name: name)
            }
            let bytes = Self.trimmingTrailingNewline(Array(value.utf8))
            guard !bytes.isEmpty else { throw .environmentVariableEmpty(name: name) }
            return SecretBytes(bytes)
        case .file(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .fileMissing(path: path)
            }
            guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
                throw .fileUnreadable(path: path)
            }
            let bytes = Self.trimmingTrailingNewline(Array(data))
            guard !bytes.isEmpty else { throw .fileEmpty(path: path) }
            return SecretBytes(bytes)
        }
    }

    /// Where the secret is, for logs: the variable's name or the file's path, never the secret.
    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        }
    }

    /// Drops one trailing `\n` or `\r\n`.
    static func trimmingTrailingNewline(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") {
                bytes.removeLast()
            }
        }
        return bytes
    }
}
