import Crypto
@testable import PinwheelWebhooks

/// Helpers that sign bodies the way the git hosts do.
enum Signing {
    static let secret = "It's a Secret to Everybody"

    static func signature(_ body: String, secret: String = Signing.secret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 0x0f)] }.joined()
    }

    private static let hexDigits = "0123456789abcdef".map(String.init)

    static let pushBody = #"{"ref":"refs/heads/main","before":"0000","after":"1111","repository":{"full_name":"acme/config"}}"#
}
