import Hummingbird
import Logging

/// Wraps the router so that every request, matched or not, is logged once with its final status:
/// method, path (without the query string, which could carry a token), status. Errors the router
/// throws are turned into their responses here so the status logged is the status sent.
struct RequestLogResponder<Wrapped: HTTPResponder>: HTTPResponder where Wrapped.Context == BasicRequestContext {
    typealias Context = BasicRequestContext

    let wrapped: Wrapped
    let logger: Logger

    init(wrapping wrapped: Wrapped, logger: Logger) {
        self.wrapped = wrapped
        self.logger = logger
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let response: Response
        do {
            response = try await wrapped.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            logger.error("control request failed: \(String(reflecting: type(of: error)))", metadata: ["path": "\(request.uri.path)"])
            response = Response(status: .internalServerError)
        }
        // Health probes come every few seconds: keep them out of the default log level.
        let level: Logger.Level = request.uri.path == "/healthz" && response.status == .ok ? .debug : .info
        logger.log(
            level: level,
            "\(request.method.rawValue) \(request.uri.path) \(response.status.code)",
            metadata: ["status": "\(response.status.code)"]
        )
        return response
    }
}
