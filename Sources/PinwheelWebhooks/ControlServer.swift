import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// The controller's HTTP control endpoint: push webhooks that make it reconcile at once instead of
/// at the next poll, and `/healthz` for supervisors and load balancers.
///
/// A `Service`: the controller adds it to its `ServiceGroup`, and a graceful shutdown of the group
/// stops accepting connections and lets requests in flight finish.
///
/// | route | answer |
/// | --- | --- |
/// | `POST /hooks/github`, `/hooks/gitlab`, `/hooks/generic` | 202 push accepted (trigger called), 200 authentic but ignored, 401 rejected, 404 no secret configured, 413 body too large |
/// | `GET /healthz` | the ``HealthReport`` as JSON; 200 when its status is "ok" or "degraded", else 503 |
/// | `GET /metrics` | the metrics in the Prometheus text format, when the server was given them; else 404 |
/// | `GET /api/v1/environments`, `/api/v1/environments/{name}` | the controller's last status of each environment (or one) as JSON; 404 for an unknown one |
/// | `GET /prometheus/targets` | Prometheus HTTP service discovery (`http_sd_configs`) of the apps' processes, when given; else 404 |
/// | `GET /` | the status page (HTML), when the server was given one; else 404 |
/// | anything else | 404 |
///
/// Each request is logged (method, path, status, and for hooks the verdict's reason); the secret,
/// the body and the query string never are.
///
/// With an access token (``init(address:secret:accessToken:limits:maxBodyBytes:logger:onPush:health:metrics:environments:page:)``)
/// the page, the API and `/metrics` answer 401 without it (see ``AccessGuard``); every answer carries
/// `Content-Security-Policy` (with `frame-ancestors 'none'`) and `X-Content-Type-Options: nosniff`; idle
/// connections are closed and connections capped by ``ControlLimits``.
public struct ControlServer: Service {
    /// The default limit on a webhook body: GitHub caps payloads at 25 MB, but a push to a config
    /// repository is a few KiB; anything near a MiB is not a push worth reading.
    public static let defaultMaxBodyBytes = 1 << 20

    /// Where it listens.
    public let address: ControlAddress
    private let hooks: HookHandler
    private let health: @Sendable () async -> HealthReport
    private let metrics: (@Sendable () async -> [UInt8])?
    private let environments: EnvironmentsEndpoint?
    private let page: (@Sendable () async -> [UInt8])?
    private let targets: (@Sendable () async -> [UInt8])?
    private let logger: Logger
    private let access: AccessGuard
    private let limits: ControlLimits
    private let state = ListeningState()

    /// - Parameters:
    ///   - address: where to listen; see ``ControlAddress``.
    ///   - secret: the webhook secret, loaded with ``WebhookSecret/load(environment:)``; nil turns the
    ///     hook routes off (they answer 404), and the server serves `/healthz` only.
    ///   - accessToken: the token the page, the API and `/metrics` ask for; nil serves them to anyone who can
    ///     connect. Load it like the secret (``WebhookSecret/load(environment:)``): from a file or an environment
    ///     variable, never from the command line, where every local user reads it.
    ///   - limits: the idle timeout and the connection cap.
    ///   - maxBodyBytes: bodies larger than this are refused with 413 before they are verified.
    ///   - logger: where requests are logged.
    ///   - onPush: called once per authentic push, before the 202 is sent. It must return at once
    ///     (signal the reconcile loop, do not run the reconcile): the git host waits for the answer
    ///     and gives up after about ten seconds.
    ///   - health: builds the `/healthz` answer on each request.
    ///   - metrics: the `/metrics` answer, in the Prometheus text exposition format (version 0.0.4), built on each
    ///     request (a scrape); nil turns the route off. The server knows no metrics library: the executable that
    ///     bootstrapped one hands its exposition over.
    ///   - environments: the `/api/v1/environments` answers; nil turns the routes off.
    ///   - page: the status page at `/`, HTML in UTF-8, built on each request; nil turns the route off.
    ///   - targets: the `/prometheus/targets` answer (a JSON list of target groups, as `http_sd_configs` reads it),
    ///     built on each request; nil turns the route off. Guarded by the access token like `/metrics`.
    public init(
        address: ControlAddress,
        secret: SecretBytes?,
        accessToken: SecretBytes? = nil,
        limits: ControlLimits = ControlLimits(),
        maxBodyBytes: Int = ControlServer.defaultMaxBodyBytes,
        logger: Logger = Logger(label: "pinwheel.control"),
        onPush: @escaping @Sendable (WebhookEvent) async -> Void,
        health: @escaping @Sendable () async -> HealthReport,
        metrics: (@Sendable () async -> [UInt8])? = nil,
        environments: EnvironmentsEndpoint? = nil,
        page: (@Sendable () async -> [UInt8])? = nil,
        targets: (@Sendable () async -> [UInt8])? = nil
    ) {
        self.address = address
        self.hooks = HookHandler(
            verifier: secret.map(WebhookVerifier.init(secret:)),
            maxBodyBytes: maxBodyBytes,
            onPush: onPush,
            logger: logger
        )
        self.health = health
        self.metrics = metrics
        self.environments = environments
        self.page = page
        self.targets = targets
        self.logger = logger
        self.access = AccessGuard(token: accessToken)
        self.limits = limits
    }

    /// The port the server is bound to, once it is: waits while it starts. Useful with port 0.
    ///
    /// - Throws: ``ControlServerError/notListening`` when the server stopped or failed to start.
    public func listeningPort() async throws -> Int {
        try await state.port()
    }

    /// Serves until the task is cancelled or the enclosing `ServiceGroup` shuts down gracefully.
    /// Call it once per `ControlServer`.
    ///
    /// - Throws: ``ControlServerError/cannotListen(address:reason:)`` when the socket cannot be bound.
    public func run() async throws {
        let state = self.state
        let address = self.address
        let logger = self.logger
        let (seconds, attoseconds) = limits.idleTimeout.components
        let idleNanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        let application = Application(
            responder: RequestLogResponder(wrapping: GuardedResponder(wrapped: makeRouter().buildResponder(), access: access), logger: logger),
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(idleNanoseconds))),
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                let bound = address.host.contains(":") ? "[\(address.host)]:\(port)" : "\(address.host):\(port)"
                logger.info("control server listening", metadata: ["address": "\(bound)"])
                state.listening(on: port)
            },
            logger: logger
        )
        defer { state.stopped() }
        do {
            try await application.run()
        } catch {
            if !state.hasListened {
                throw ControlServerError.cannotListen(address: address.description, reason: "\(error)")
            }
            throw error
        }
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let hooks = self.hooks
        for form in WebhookForm.allCases {
            router.post("hooks/\(form.rawValue)") { request, context in
                try await hooks.handle(form, request: request, context: context)
            }
        }
        let health = self.health
        router.get("healthz") { _, _ in
            try Self.healthResponse(await health())
        }
        if let metrics = self.metrics {
            router.get("metrics") { _, _ in
                Self.metricsResponse(await metrics())
            }
        }
        if let environments = self.environments {
            router.get("api/v1/environments") { _, _ in
                Self.jsonResponse(await environments.all())
            }
            router.get("api/v1/environments/:name") { _, context in
                let name = context.parameters.get("name") ?? ""
                guard let status = await environments.one(name) else {
                    return Self.jsonResponse(Array(#"{"error":"no status of this environment"}"#.utf8) + [UInt8(ascii: "\n")],
                                             status: .notFound)
                }
                return Self.jsonResponse(status)
            }
        }
        if let targets = self.targets {
            router.get("prometheus/targets") { _, _ in
                Self.jsonResponse(await targets())
            }
        }
        if let page = self.page {
            router.get("/") { _, _ in
                Self.htmlResponse(await page())
            }
        }
        return router
    }

    static func htmlResponse(_ html: [UInt8]) -> Response {
        // The page changes with every status: a browser or a proxy must not keep it.
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: html)))
    }

    /// The content type of the Prometheus text exposition format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    static func metricsResponse(_ exposition: [UInt8]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: metricsContentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: exposition))
        )
    }

    static func jsonResponse(_ json: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }

    static func healthResponse(_ report: HealthReport) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var json = try encoder.encode(report)
        json.append(UInt8(ascii: "\n"))
        return Response(
            status: report.isServing ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json))
        )
    }
}
