import Crypto
import Foundation

/// An OpenSSH `known_hosts` file, used to decide whether to trust an SSH server's host key.
///
/// Supports plain host patterns (comma-separated, `*`/`?` wildcards, `!` negation),
/// `[host]:port` entries for non-standard ports, hashed entries (`|1|salt|hash`), and the
/// `@revoked` marker. `@cert-authority` lines are ignored (libssh2 gives us no certificates).
public struct KnownHosts: Sendable {
    struct Entry: Sendable {
        var revoked: Bool
        var patterns: [String]
        var hashed: (salt: [UInt8], hash: [UInt8])?
        var keyType: String
        var key: [UInt8]
    }

    enum Verdict: Equatable {
        case trusted
        case unknownHost
        case mismatch
        case revoked
    }

    var entries: [Entry]
    public let path: String

    /// Parses the file; unreadable lines are skipped.
    public init(contentsOf path: String) throws(GitError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GitError(.certificate, "cannot read known_hosts file \(path)",
                           hint: "create it with ssh-keyscan and check the fingerprints")
        }
        self.init(text: text, path: path)
    }

    init(text: String, path: String) {
        self.path = path
        entries = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                guard first == "@revoked" else { continue }
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
            var entry = Entry(revoked: revoked, patterns: [], hashed: nil, keyType: fields[1], key: [UInt8](key))
            if fields[0].hasPrefix("|1|") {
                let parts = fields[0].split(separator: "|")
                guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])),
                      let hash = Data(base64Encoded: String(parts[2])) else { continue }
                entry.hashed = ([UInt8](salt), [UInt8](hash))
            } else {
                entry.patterns = fields[0].split(separator: ",").map(String.init)
            }
            entries.append(entry)
        }
    }

    /// The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise.
    static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// Checks a raw host key blob (SSH wire format, as in the file's base64 field).
    func verify(host: String, port: Int, key: [UInt8]) -> Verdict {
        let name = Self.lookupName(host: host, port: port)
        var sawHost = false
        var matched = false
        for entry in entries where Self.matches(entry, name) {
            if entry.key == key {
                if entry.revoked { return .revoked }
                matched = true
            } else if !entry.revoked {
                sawHost = true
            }
        }
        if matched { return .trusted }
        return sawHost ? .mismatch : .unknownHost
    }

    static func matches(_ entry: Entry, _ name: String) -> Bool {
        if let hashed = entry.hashed {
            // OpenSSH's hashed form: `|1|salt|HMAC-SHA1(salt, name)`. SHA-1 is only a lookup key
            // here; the host key itself is compared byte for byte in `verify`.
            return HMAC<Insecure.SHA1>.isValidAuthenticationCode(
                hashed.hash, authenticating: Array(name.utf8), using: SymmetricKey(data: hashed.salt))
        }
        var positive = false
        for pattern in entry.patterns {
            if pattern.hasPrefix("!") {
                if wildcard(String(pattern.dropFirst()).lowercased(), name.lowercased()) { return false }
            } else if wildcard(pattern.lowercased(), name.lowercased()) {
                positive = true
            }
        }
        return positive
    }

    /// `*` and `?` globbing, as in OpenSSH host patterns.
    static func wildcard(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
