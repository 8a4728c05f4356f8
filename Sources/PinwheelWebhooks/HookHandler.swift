import Hummingbird
import Logging

/// Answers the `/hooks/*` routes: size limit, verification, trigger, and the log line with the verdict.
struct HookHandler: Sendable {
    /// nil when no secret is configured: the routes then answer 404.
    let verifier: WebhookVerifier?
    let maxBodyBytes: Int
    let onPush: @Sendable (WebhookEvent) async -> Void
    let logger: Logger
    /// Authentic deliveries seen before trigger nothing.
    let replays = ReplayGuard()

    func handle(_ form: WebhookForm, request: Request, context: some RequestContext) async throws -> Response {
        guard let verifier else {
            return Self.text(.notFound, "webhooks are not configured")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            return Self.text(.contentTooLarge, "body is larger than \(maxBodyBytes) bytes")
        }
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: maxBodyBytes).readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return Self.text(.contentTooLarge, "body is larger than \(maxBodyBytes) bytes")
        }

        var headers: [String: String] = [:]
        for field in request.headers where headers[field.name.canonicalName] == nil {
            headers[field.name.canonicalName] = field.value
        }
        let delivery = headers["x-github-delivery"] ?? headers["x-gitlab-event-uuid"] ?? headers["x-request-id"]
        var metadata: Logger.Metadata = ["hook": "\(form)"]
        if let delivery { metadata["delivery"] = "\(WebhookVerifier.printable(delivery))" }

        switch verifier.verify(form, headers: headers, body: body) {
        case .trigger(let reason, let branch):
            if let branch { metadata["branch"] = "\(branch)" }
            guard replays.isFirst(form: form, deliveryID: delivery, body: body) else {
                logger.warning("webhook ignored: a delivery seen before", metadata: metadata)
                return Self.text(.ok, "ignored: this delivery was seen before")
            }
            // The controller's `webhook.accepted` event code (``ControllerEvent`` in PinwheelCore, which this module
            // does not depend on).
            metadata["event"] = "webhook.accepted"
            logger.notice("webhook accepted: \(reason)", metadata: metadata)
            await onPush(WebhookEvent(form: form, reason: reason, branch: branch, deliveryID: delivery))
            return Self.text(.accepted, "accepted: \(reason)")
        case .ignore(let reason):
            logger.info("webhook ignored: \(reason)", metadata: metadata)
            return Self.text(.ok, "ignored: \(reason)")
        case .reject(let reason):
            logger.warning("webhook rejected: \(reason)", metadata: metadata)
            return Self.text(.unauthorized, "rejected: \(reason)")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n"))
        )
    }
}
