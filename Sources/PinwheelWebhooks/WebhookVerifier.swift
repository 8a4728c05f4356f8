import Crypto

/// Decides whether a push webhook is authentic and whether it should trigger a reconcile.
///
/// Pure: no I/O, no clock, no logging, so every case is a unit test. The server hands it the
/// headers and the raw body exactly as received (signatures are over the raw bytes, so the body must
/// not be parsed and re-serialised first). Every comparison against the secret or an expected MAC is
/// constant-time.
public struct WebhookVerifier: Sendable {
    private let secret: SecretBytes

    public init(secret: SecretBytes) {
        self.secret = secret
    }

    /// The verdict for one request.
    ///
    /// - Parameters:
    ///   - form: the route the request came in on.
    ///   - headers: the request's headers; names are matched case-insensitively. When a name repeats,
    ///     pass the first value.
    ///   - body: the raw body.
    public func verify(_ form: WebhookForm, headers: [String: String], body: [UInt8]) -> WebhookVerdict {
        let headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        switch form {
        case .github: return verifyGitHub(headers: headers, body: body)
        case .gitlab: return verifyGitLab(headers: headers, body: body)
        case .generic: return verifyGeneric(headers: headers, body: body)
        }
    }

    private func verifyGitHub(headers: [String: String], body: [UInt8]) -> WebhookVerdict {
        guard let signature = headers["x-hub-signature-256"] else {
            return .reject("missing X-Hub-Signature-256 header (set a secret on the GitHub webhook)")
        }
        if let failure = checkSignature(signature, header: "X-Hub-Signature-256", body: body) {
            return .reject(failure)
        }
        guard let event = headers["x-github-event"] else {
            return .ignore("no X-GitHub-Event header")
        }
        switch event {
        case "push":
            return .trigger(reason: "GitHub push", branch: Self.pushedBranch(in: body))
        case "ping":
            return .ignore("GitHub ping")
        default:
            return .ignore("GitHub event \(Self.printable(event)) is not a push")
        }
    }

    private func verifyGitLab(headers: [String: String], body: [UInt8]) -> WebhookVerdict {
        guard let token = headers["x-gitlab-token"] else {
            return .reject("missing X-Gitlab-Token header (set a secret token on the GitLab webhook)")
        }
        guard secret.matches(token) else {
            return .reject("X-Gitlab-Token does not match")
        }
        guard let event = headers["x-gitlab-event"] else {
            return .ignore("no X-Gitlab-Event header")
        }
        switch event {
        case "Push Hook", "Tag Push Hook":
            return .trigger(reason: "GitLab \(event)", branch: Self.pushedBranch(in: body))
        default:
            return .ignore("GitLab event \(Self.printable(event)) is not a push")
        }
    }

    private func verifyGeneric(headers: [String: String], body: [UInt8]) -> WebhookVerdict {
        if let signature = headers["x-pinwheel-signature"] {
            if let failure = checkSignature(signature, header: "X-Pinwheel-Signature", body: body) {
                return .reject(failure)
            }
            return .trigger(reason: "signed generic push", branch: Self.pushedBranch(in: body))
        }
        if let authorization = headers["authorization"] {
            let prefix = "bearer "
            guard authorization.count > prefix.count, authorization.prefix(prefix.count).lowercased() == prefix else {
                return .reject("Authorization header is not a Bearer token")
            }
            let token = authorization.dropFirst(prefix.count).drop(while: { $0 == " " })
            guard secret.matches(token) else {
                return .reject("bearer token does not match")
            }
            return .trigger(reason: "authorized generic push", branch: Self.pushedBranch(in: body))
        }
        return .reject("missing X-Pinwheel-Signature or Authorization: Bearer header")
    }

    /// Checks a `sha256=<hex>` header against the body; nil when it matches, else why not.
    private func checkSignature(_ value: String, header: String, body: [UInt8]) -> String? {
        let prefix = "sha256="
        guard value.hasPrefix(prefix), let presented = Hex.decode(value.dropFirst(prefix.count)),
            presented.count == SHA256.byteCount
        else {
            return "malformed \(header) header (expected sha256=<64 hex digits>)"
        }
        // swift-crypto compares the presented MAC with the expected one in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(presented, authenticating: body, using: secret.key) else {
            return "\(header) does not match the body (wrong secret, or the body was changed on the way)"
        }
        return nil
    }

    /// A header value made safe to echo: an attacker chooses it, so keep it short and plain.
    static func printable(_ value: String) -> String {
        let cleaned = value.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" }
        let text = String(cleaned.prefix(40))
        return "'\(text)\(cleaned.count > 40 ? "…" : "")'"
    }
}
