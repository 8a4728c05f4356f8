import Foundation

/// Credentials in remote URLs: shown redacted, never sent in clear over the network.
///
/// A repository URL may carry a user and password or token (`https://x-access-token:TOKEN@host/repo.git`).
/// Every error, log line and page that shows a URL shows it through ``redacted(_:)``, so the credential never
/// lands in a CI log, a status commit or a notification; and no credential goes to a plain `http://` remote
/// other than this machine's loopback, where anyone on the path could read it.
public enum RemoteURL {
    /// `text` with the userinfo (`user:password@`) of every URL in it replaced by `***@`. Works on whole
    /// messages: every `scheme://userinfo@host` in them is redacted. scp-like `git@host:path` has no secret and
    /// stays as it is.
    public static func redacted(_ text: String) -> String {
        guard text.contains("://"), text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // The authority ends at the first `/`, `?`, `#` or whitespace; its userinfo at its last `@`.
            let end = rest.firstIndex { "/?#".contains($0) || $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == ">" || $0 == ")" }
                ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@") {
                result += "***"
                result += rest[at..<end]
            } else {
                result += authority
            }
            rest = rest[end...]
        }
        return result + rest
    }

    /// Whether `url` carries a user or password before its host.
    public static func hasUserinfo(_ url: String) -> Bool {
        guard let parts = parts(url) else { return false }
        return parts.userinfo != nil
    }

    /// Whether credentials sent to `url` would cross the network unencrypted: an `http://` URL whose host is not
    /// loopback (`localhost`, 127.0.0.0/8, `::1`).
    public static func isPlaintextToAnotherMachine(_ url: String) -> Bool {
        guard let parts = parts(url), parts.scheme.lowercased() == "http" else { return false }
        return !isLoopback(parts.host)
    }

    /// Whether `host` names this machine's loopback interface.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The error for a credential about to be sent in clear, or nil when sending it is fine.
    static func plaintextCredentialError(url: String, credentials: RemoteOptions.Credentials, context: String) -> GitError? {
        guard isPlaintextToAnotherMachine(url) else { return nil }
        let sendsToken: Bool
        if case .token = credentials { sendsToken = true } else { sendsToken = false }
        guard sendsToken || hasUserinfo(url) else { return nil }
        return GitError(.auth, "refused to send credentials over plain http:// to \(parts(url)?.host ?? "the remote"): anyone on the "
                        + "way could read them", context: context,
                        hint: "use an https:// or ssh:// URL for this repository, or drop the credentials")
    }

    private static func parts(_ url: String) -> (scheme: String, userinfo: Substring?, host: String)? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        let end = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        let authority = rest[..<end]
        var userinfo: Substring?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            userinfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
        }
        var host = String(hostPort)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return (String(url[..<scheme.lowerBound]), userinfo, host)
    }
}
