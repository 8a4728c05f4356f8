/// A loaded webhook secret. It never prints: `description`, `debugDescription` and `dump` show
/// `<redacted>`, so an interpolation into a log line or an error cannot leak it by accident.
public struct SecretBytes: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret's bytes, as they are used for HMAC keys and token comparison.
    let bytes: [UInt8]

    /// A secret from bytes the caller already has (tests, or a controller that loads secrets itself).
    /// Prefer ``WebhookSecret/load(environment:)``, which also checks that the secret is not empty.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A secret from a string, taken as UTF-8.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    /// Constant-time, like every other comparison against a secret here.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        ConstantTime.tokenEqual(lhs.bytes, rhs.bytes)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
