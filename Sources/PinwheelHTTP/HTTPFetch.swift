import AsyncHTTPClient
import Foundation
import NIOCore

/// The controller's own HTTP requests: an index page for shipped artifacts, an instant query to Prometheus, a
/// notification's POST.
///
/// They go through one AsyncHTTPClient for the whole process (SwiftNIO, TLS through the BoringSSL that SwiftNIO
/// already links, with the system's CA certificates and full verification). Foundation's URLSession would load
/// FoundationNetworking, and with it libcurl and its TLS, LDAP and Kerberos libraries, into every `pinwheel` process:
/// about 4 MB of a long-running controller's resident memory for three kinds of request.
///
/// Every request has a deadline for the whole exchange, answers are bounded before they are kept, and a refused
/// connection fails at once (the callers have their own retries: the notifier's backoff, the analysis's next
/// interval) instead of being retried until the deadline.
public enum HTTPFetch {
    public enum Method: Sendable {
        case get
        case post
    }

    /// An answer: its HTTP status and its body (at most the request's limit).
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// The process's client: never shut down, like AsyncHTTPClient's own shared one, whose settings (90-second
    /// timeouts, twenty redirects, retried connections) suit a browser rather than a controller.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(10), read: .seconds(60)),
            connectionPool: .init(idleTimeout: .seconds(60)),
            decompression: .disabled
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends one request and waits for its whole answer, at most `timeout`; an answer longer than `limit` bytes is
    /// an error, not a cut. Credentials in the URL (`https://user:password@…`) are sent as basic authentication.
    public static func send(_ method: Method, to url: URL, headers: [(name: String, value: String)] = [],
                            body: [UInt8]? = nil, timeout: Duration, limit: Int) async throws(HTTPFetchError) -> Response {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil,
              var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw HTTPFetchError(.badURL)
        }
        let user = components.user.flatMap { $0.removingPercentEncoding ?? $0 }
        let password = components.password.flatMap { $0.removingPercentEncoding ?? $0 }
        components.user = nil
        components.password = nil
        guard let address = components.string else { throw HTTPFetchError(.badURL) }

        var request = HTTPClientRequest(url: address)
        request.method = method == .post ? .POST : .GET
        request.headers.add(name: "User-Agent", value: "pinwheel")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let user { request.setBasicAuth(username: user, password: password ?? "") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let whole = TimeAmount(timeout)
        let sent = request
        do {
            return try await withDeadline(timeout) {
                let response = try await client.execute(sent, timeout: whole)
                let collected = try await response.body.collect(upTo: limit)
                return Response(status: Int(response.status.code), body: Array(buffer: collected))
            }
        } catch {
            throw HTTPFetchError(of: error)
        }
    }

    /// `body`'s result, or ``HTTPFetchError/Reason/timedOut`` when it takes longer than `timeout` (it is cancelled).
    private static func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw HTTPFetchError(.timedOut)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw HTTPFetchError(.timedOut) }
            return first
        }
    }
}
