import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs a JSON body through Foundation's URLSession (libcurl on Linux: http and https, the system's CA
/// certificates). Returns the HTTP status; throws when no answer came.
public enum HTTPPoster {
    /// How long one attempt may take, connecting included.
    public static let timeout: TimeInterval = 10

    public static func post(_ url: URL, body: [UInt8]) async throws -> Int {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("pinwheel", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(body)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (_, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// Why a POST got no answer, in words that never include the URL (Foundation's own descriptions do).
    public static func reason(_ error: any Error) -> String {
        guard let error = error as? URLError else { return "\(type(of: error))" }
        switch error.code {
        case .timedOut: return "timed out"
        case .cannotConnectToHost: return "cannot connect"
        case .cannotFindHost, .dnsLookupFailed: return "cannot resolve the host"
        case .networkConnectionLost: return "connection lost"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot: return "TLS failed"
        default: return "network error \(error.code.rawValue)"
        }
    }
}
