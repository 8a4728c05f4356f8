import Foundation
import PinwheelCore
import PinwheelHTTP

/// Instant queries against the operator's Prometheus (`GET /api/v1/query`), for metric analysis.
///
/// The URL and its credentials come from the controller's command line or files, never from git: a pull request
/// cannot point the analysis at a server that always says yes. Answers are bounded (a megabyte) and every text from
/// the server that reaches a message is cut and escaped.
public struct PrometheusClient: MetricQuerying {
    /// Why a query has no answer.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The server's base URL, e.g. `http://127.0.0.1:9090` (a path prefix is kept).
    public let base: URL
    /// Sent as `Authorization: Bearer …` when set (from a file or an environment variable).
    let bearerToken: String?
    public let timeout: TimeInterval
    static let maximumAnswer = 1 << 20

    /// The token, for one use only: to redact it from output shown elsewhere. Never print or log it.
    public var bearerTokenForRedaction: String? { bearerToken }

    public init(base: URL, bearerToken: String? = nil, timeout: TimeInterval = 10) {
        self.base = base
        self.bearerToken = bearerToken
        self.timeout = timeout
    }

    /// `base` as text without its user information, for logs and messages.
    public var shown: String {
        guard var components = URLComponents(url: base, resolvingAgainstBaseURL: false) else { return "the Prometheus server" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "the Prometheus server"
    }

    public func value(of query: String) async throws -> Double? {
        var components = URLComponents(url: base.appendingPathComponent("api/v1/query"), resolvingAgainstBaseURL: false)
        components?.queryItems = [URLQueryItem(name: "query", value: query)]
        guard let url = components?.url else { throw Failure(description: "cannot make a query URL from \(shown)") }
        let answer: HTTPFetch.Response
        do {
            var headers = [(name: "Accept", value: "application/json")]
            if let bearerToken { headers.append((name: "Authorization", value: "Bearer \(bearerToken)")) }
            answer = try await HTTPFetch.send(.get, to: url, headers: headers, timeout: .milliseconds(Int64(timeout * 1000)),
                                              limit: Self.maximumAnswer)
        } catch let error where error.reason == .tooLarge {
            throw Failure(description: "\(shown) answered more than a megabyte")
        } catch {
            throw Failure(description: "\(shown) did not answer (\(error))")
        }
        let data = Data(answer.body)
        let status = answer.status
        return try Self.value(in: data, status: status, from: shown)
    }

    /// The one number in an answer of the query API: a scalar, or a vector of at most one sample.
    static func value(in data: Data, status: Int, from server: String) throws -> Double? {
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "\(server) answered HTTP \(status) with no JSON")
        }
        guard json["status"] as? String == "success", let result = json["data"] as? [String: Any] else {
            let error = (json["error"] as? String).map { Quote.excerpt($0, limit: 200) } ?? "no reason given"
            throw Failure(description: "\(server) refused the query (HTTP \(status)): \(error)")
        }
        switch result["resultType"] as? String {
        case "scalar":
            return (result["result"] as? [Any]).flatMap(sample)
        case "vector":
            let series = result["result"] as? [[String: Any]] ?? []
            guard series.count <= 1 else {
                throw Failure(description: "the query answers \(series.count) series; aggregate it to one (`sum(…)`, `max(…)`)")
            }
            return series.first.flatMap { ($0["value"] as? [Any]).flatMap(sample) }
        case let other:
            throw Failure(description: "the query answers a \(other.map { Quote.excerpt($0, limit: 200) } ?? "result") of no single value; use an instant vector or a scalar")
        }
    }

    /// `[time, "value"]` as a number; NaN and infinities are no data.
    static func sample(_ pair: [Any]) -> Double? {
        guard pair.count == 2, let text = pair[1] as? String, let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
