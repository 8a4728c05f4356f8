import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// Why an HTTP request got no usable answer, in words that never include the URL (its credentials or a webhook's
/// secret path): callers put them in logs and messages as they are.
public struct HTTPFetchError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        case badURL
        case timedOut
        case cannotConnect
        case cannotResolve
        case tls
        case connectionLost
        case tooLarge
        case tooManyRedirects
        case other(String)
    }

    public var reason: Reason

    public init(_ reason: Reason) {
        self.reason = reason
    }

    /// `error`, thrown while a request was under way, as one of the reasons.
    init(of error: any Error) {
        switch error {
        case let error as HTTPFetchError:
            self = error
        case is NIOTooManyBytesError:
            self.init(.tooLarge)
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                self.init(.timedOut)
            case .tlsHandshakeTimeout:
                self.init(.tls)
            case .remoteConnectionClosed, .uncleanShutdown, .cancelled:
                self.init(.connectionLost)
            case .redirectLimitReached, .redirectCycleDetected:
                self.init(.tooManyRedirects)
            case .invalidURL, .emptyHost, .emptyScheme:
                self.init(.badURL)
            default:
                self.init(.other(error.shortDescription))
            }
        case let error as NIOConnectionError:
            self.init(error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil)
                      ? .cannotResolve : .cannotConnect)
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            self.init(.tls)
        case let error as IOError:
            self.init(error.errnoCode == ECONNREFUSED || error.errnoCode == EHOSTUNREACH || error.errnoCode == ENETUNREACH
                      ? .cannotConnect : .connectionLost)
        case is CancellationError:
            self.init(.connectionLost)
        default:
            self.init(.other("\(type(of: error))"))
        }
    }

    public var description: String {
        switch reason {
        case .badURL: "not an http:// or https:// URL"
        case .timedOut: "timed out"
        case .cannotConnect: "cannot connect"
        case .cannotResolve: "cannot resolve the host"
        case .tls: "TLS failed"
        case .connectionLost: "connection lost"
        case .tooLarge: "the answer is too large"
        case .tooManyRedirects: "too many redirects"
        case let .other(what): "network error (\(what))"
        }
    }
}
