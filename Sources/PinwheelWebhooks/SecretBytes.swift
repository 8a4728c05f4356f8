import Crypto

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
        equalInConstantTime(lhs.bytes, rhs.bytes)
    }

    /// Whether a presented token (a GitLab token, a bearer token) is this secret, in constant time.
    func matches(_ token: some StringProtocol) -> Bool {
        Self.equalInConstantTime(Array(token.utf8), bytes)
    }

    /// The secret as text, for one use only: to find it and redact it in output shown elsewhere (a host's error on
    /// the status page). Never print or log it.
    public var textForRedaction: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The secret as an HMAC key.
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// Compares two secrets without leaking where they first differ, nor the secret's length: both
    /// sides are hashed to fixed-length SHA-256 digests, and swift-crypto's `==` on digests compares
    /// every byte whatever it finds (its digests are compared with a constant-time comparison, for
    /// exactly this use), so the time taken tells an attacker nothing about the secret.
    static func equalInConstantTime(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        SHA256.hash(data: lhs) == SHA256.hash(data: rhs)
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
