import Foundation
import PinwheelCore

/// Where the coordination database is and how to log in: `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…]`, with the
/// password from a file or an environment variable, never from the URL (a command line is visible to every local
/// user, and ends up in shell histories and unit files).
public struct CoordinationSettings: Sendable, Hashable {
    public enum TLSMode: String, Sendable, Hashable {
        /// Plain TCP: for loopback and private networks only.
        case disable
        /// TLS, the server's certificate checked against the system's roots.
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    public var tls: TLSMode
    /// The password (nil: none, e.g. trust or peer authentication).
    public var password: String?

    /// Why a coordination URL cannot be used.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Reads `url`, refusing a password in it.
    public init(url text: String, password: String? = nil) throws(Problem) {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw Problem(description: "the coordination store must be a postgres:// URL, such as postgres://pinwheel@db.internal/pinwheel")
        }
        if components.password != nil {
            throw Problem(description: "the coordination URL has a password in it; give the password in a file (--coordination-password-file) or the environment variable PINWHEEL_COORDINATION_PASSWORD instead")
        }
        guard let host = components.host, !host.isEmpty else { throw Problem(description: "the coordination URL names no host") }
        guard let user = components.user, !user.isEmpty else {
            throw Problem(description: "the coordination URL names no user: postgres://USER@\(host)/DATABASE")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Problem(description: "the coordination URL names no database: postgres://\(user)@\(host)/DATABASE")
        }
        var tls = TLSMode.require
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value, let mode = TLSMode(rawValue: value) else {
                throw Problem(description: "the coordination URL's only option is sslmode=disable or sslmode=require, found `\(Quote.excerpt(item.name))`")
            }
            tls = mode
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user
        self.database = database
        self.tls = tls
        self.password = password
    }

    /// The URL as shown in logs and on the page: no password is ever part of it.
    public var shown: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}
