#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the control server listens, parsed from `HOST:PORT` (`127.0.0.1:9420`, `[::1]:9420`,
/// `localhost:9420`).
///
/// Only IP literals and `localhost` are accepted: a host name would be resolved through DNS at
/// start and could bind somewhere nobody meant to expose. Port 0 asks the system for a free port
/// (tests); ``ControlServer/listeningPort()`` then tells which.
public struct ControlAddress: Sendable, Equatable, CustomStringConvertible {
    /// The host to bind: an IPv4 or IPv6 literal (without brackets), or `localhost`.
    public let host: String
    /// The TCP port, 0...65535.
    public let port: Int

    /// Parses and validates `HOST:PORT`.
    public init(parsing text: String) throws(ControlAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .malformed(text) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .missingPort(text) }
            portText = rest.dropFirst()
            guard Self.isIPv6(host) else { throw .notAnIPLiteral(text) }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw .malformed(text) }  // an IPv6 literal must be in brackets
            guard host == "localhost" || Self.isIPv4(host) else { throw .notAnIPLiteral(text) }
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
            portText.count <= 5, let port = Int(portText), (0...65535).contains(port)
        else { throw .badPort(text) }
        self.host = String(host)
        self.port = port
    }

    /// Host and port, in the form it was parsed from.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func isIPv4(_ host: Substring) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, String(host), &address) == 1
    }

    static func isIPv6(_ host: Substring) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, String(host), &address) == 1
    }
}
