@testable import PinwheelWebhooks

/// Helpers that sign bodies the way the git hosts do.
enum Signing {
    static let secret = "It's a Secret to Everybody"

    static func signature(_ body: String, secret: String = Signing.secret) -> String {
        "sha256=" + Hex.encode(HMACSHA256.authenticationCode(for: Array(body.utf8), key: Array(secret.utf8)))
    }

    static let pushBody = #"{"ref":"refs/heads/main","before":"0000","after":"1111","repository":{"full_name":"acme/config"}}"#
}
