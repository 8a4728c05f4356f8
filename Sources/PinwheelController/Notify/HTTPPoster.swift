import Foundation
import PinwheelHTTP

/// POSTs a JSON body (http and https, the system's CA certificates; see ``HTTPFetch``). Returns the HTTP status;
/// throws when no answer came.
public enum HTTPPoster {
    /// How long one attempt may take, connecting included.
    public static let timeout = Duration.seconds(10)
    /// A receiver's answer is read only for its status; more than this is not waited for.
    static let answerLimit = 1 << 20

    public static func post(_ url: URL, body: [UInt8]) async throws -> Int {
        try await HTTPFetch.send(.post, to: url, headers: [("Content-Type", "application/json")], body: body,
                                 timeout: timeout, limit: answerLimit).status
    }

    /// Why a POST got no answer, in words that never include the URL.
    public static func reason(_ error: any Error) -> String {
        guard let error = error as? HTTPFetchError else { return "\(type(of: error))" }
        return error.description
    }
}
