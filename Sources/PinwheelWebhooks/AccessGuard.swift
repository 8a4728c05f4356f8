import Foundation
import HTTPTypes
import Hummingbird

/// Who may read the control server's page, API and metrics, and the headers every answer carries.
///
/// The page, `/api/v1/*` and `/metrics` show host names, addresses, errors and authors' e-mail addresses: with a
/// token configured they answer only a request that presents it, as `Authorization: Bearer <token>` (scrapers,
/// scripts) or as the password of HTTP Basic authentication with any user name (what a browser sends after asking).
/// `/healthz` (for supervisors and load balancers) and `/hooks/*` (verified by their own secret) never ask for it.
/// The token is compared in constant time (``SecretBytes/matches(_:)``, through swift-crypto).
struct AccessGuard: Sendable {
    /// nil: everything is open, as before a token was configured.
    let token: SecretBytes?

    /// Whether `path` is served without the token.
    static func isPublic(_ path: String) -> Bool {
        path == "/healthz" || path.hasPrefix("/hooks/")
    }

    /// Whether a request to `path` with this `Authorization` header may be answered.
    func allows(path: String, authorization: String?) -> Bool {
        guard let token, !Self.isPublic(path) else { return true }
        guard let presented = Self.presentedToken(authorization) else { return false }
        return token.matches(presented)
    }

    /// The token in an `Authorization` header: a bearer token, or a Basic password.
    static func presentedToken(_ authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer":
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        case "basic":
            guard let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
                  let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":") else { return nil }
            return String(pair[pair.index(after: colon)...])
        default:
            return nil
        }
    }

    /// Sent with every answer. The page needs no script, no frame, no form and nothing from elsewhere: its own inline
    /// style is all it loads. `frame-ancestors 'none'` (and the older `X-Frame-Options`) keeps it out of another site's
    /// frame; `nosniff` keeps a browser from reading a JSON or text answer as HTML.
    static let securityHeaders: [(HTTPField.Name, String)] = [
        (HTTPField.Name("Content-Security-Policy")!,
         "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
    ]

    /// The answer to a request without the token.
    static func refusal() -> Response {
        Response(
            status: .unauthorized,
            headers: [.wwwAuthenticate: #"Bearer realm="pinwheel", Basic realm="pinwheel""#, .contentType: "text/plain; charset=utf-8",
                      .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "this control server needs its access token: "
                + "Authorization: Bearer <token> (or the token as a Basic password)\n"))
        )
    }
}

/// Puts ``AccessGuard`` in front of the router: refuses what needs the token, and adds the security headers to
/// every answer, refusals and errors included.
struct GuardedResponder<Wrapped: HTTPResponder>: HTTPResponder where Wrapped.Context == BasicRequestContext {
    typealias Context = BasicRequestContext

    let wrapped: Wrapped
    let access: AccessGuard

    func respond(to request: Request, context: Context) async throws -> Response {
        var response: Response
        if access.allows(path: request.uri.path, authorization: request.headers[.authorization]) {
            do {
                response = try await wrapped.respond(to: request, context: context)
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            }
        } else {
            response = AccessGuard.refusal()
        }
        for (name, value) in AccessGuard.securityHeaders {
            response.headers[name] = value
        }
        return response
    }
}
