import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import PinwheelWebhooks

/// Real HTTP on 127.0.0.1 against a server on port 0. Serialized: each test starts its own server,
/// and the machine is small.
@Suite("ControlServer", .serialized, .timeLimit(.minutes(1)))
struct ControlServerTests {
    let secret = SecretBytes(Signing.secret)

    @Test func githubPushWithGoodSignatureTriggersOnce() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let reply = try await server.send(
                "POST", "/hooks/github",
                headers: [
                    "X-Hub-Signature-256": Signing.signature(Signing.pushBody),
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    "Content-Type": "application/json",
                ],
                body: Signing.pushBody
            )
            #expect(reply.status == 202)
            #expect(reply.body == "accepted: GitHub push\n")
            let events = await server.pushes.events
            #expect(events == [WebhookEvent(form: .github, reason: "GitHub push", branch: "main", deliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958")])
        }
    }

    @Test func githubBadSignatureIsUnauthorizedAndTriggersNothing() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let reply = try await server.send(
                "POST", "/hooks/github",
                headers: ["X-Hub-Signature-256": Signing.signature(Signing.pushBody, secret: "guess"), "X-GitHub-Event": "push"],
                body: Signing.pushBody
            )
            #expect(reply.status == 401)
            #expect(reply.body.hasPrefix("rejected: X-Hub-Signature-256 does not match"))
            #expect(await server.pushes.events.isEmpty)
        }
    }

    @Test func aReplayedDeliveryTriggersNothing() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let headers = [
                "X-Hub-Signature-256": Signing.signature(Signing.pushBody),
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "0f1e2d3c-0000-11e3-81ab-4c9367dc0958",
            ]
            #expect(try await server.send("POST", "/hooks/github", headers: headers, body: Signing.pushBody).status == 202)
            // The same request again, and again with a new delivery id: the signature covers only the body.
            let again = try await server.send("POST", "/hooks/github", headers: headers, body: Signing.pushBody)
            #expect(again.status == 200)
            #expect(again.body == "ignored: this delivery was seen before\n")
            var renamed = headers
            renamed["X-GitHub-Delivery"] = "ffffffff-0000-11e3-81ab-4c9367dc0958"
            #expect(try await server.send("POST", "/hooks/github", headers: renamed, body: Signing.pushBody).status == 200)
            #expect(await server.pushes.events.count == 1)
            // A new push (another body) still triggers.
            let next = Signing.pushBody.replacingOccurrences(of: "\"ref\"", with: "\"before\":\"1\",\"ref\"")
            let fresh = try await server.send("POST", "/hooks/github",
                                              headers: ["X-Hub-Signature-256": Signing.signature(next), "X-GitHub-Event": "push"],
                                              body: next)
            #expect(fresh.status == 202)
            #expect(await server.pushes.events.count == 2)
        }
    }

    @Test func malformedBodiesAreAnsweredAndTriggerNothingUnlessSigned() async throws {
        // One server, the bodies one after another: the suite is serialized and the machine is small.
        let bodies = ["", "{", "not json at all", "{\"ref\": 42}", String(repeating: "[", count: 10_000), "\u{0}\u{1}\u{2}"]
        try await ServerHarness.run(secret: secret) { server in
            for body in bodies {
                // Unsigned or forged: refused, whatever the body.
                let unsigned = try await server.send("POST", "/hooks/github", headers: ["X-GitHub-Event": "push"], body: body)
                #expect(unsigned.status == 401, "\(body.prefix(20))")
                let forged = try await server.send("POST", "/hooks/generic",
                                                   headers: ["X-Pinwheel-Signature": "sha256=" + String(repeating: "0", count: 64)],
                                                   body: body)
                #expect(forged.status == 401, "\(body.prefix(20))")
            }
            #expect(await server.pushes.events.isEmpty)
            // The server still answers afterwards.
            #expect(try await server.send("GET", "/healthz", headers: [:], body: "").status == 200)
        }
    }

    @Test func githubPingIsOkAndTriggersNothing() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let ping = #"{"zen":"Design for failure.","hook_id":42}"#
            let reply = try await server.send(
                "POST", "/hooks/github",
                headers: ["X-Hub-Signature-256": Signing.signature(ping), "X-GitHub-Event": "ping"],
                body: ping
            )
            #expect(reply.status == 200)
            #expect(reply.body == "ignored: GitHub ping\n")
            #expect(await server.pushes.events.isEmpty)
        }
    }

    @Test func gitlabTokenPushTriggers() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let good = try await server.send(
                "POST", "/hooks/gitlab",
                headers: ["X-Gitlab-Token": Signing.secret, "X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "abc-123"],
                body: #"{"object_kind":"push","ref":"refs/heads/production"}"#
            )
            #expect(good.status == 202)
            let bad = try await server.send(
                "POST", "/hooks/gitlab",
                headers: ["X-Gitlab-Token": "guess", "X-Gitlab-Event": "Push Hook"],
                body: #"{"ref":"refs/heads/production"}"#
            )
            #expect(bad.status == 401)
            let events = await server.pushes.events
            #expect(events == [WebhookEvent(form: .gitlab, reason: "GitLab Push Hook", branch: "production", deliveryID: "abc-123")])
        }
    }

    @Test func genericBearerAndSignatureTrigger() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let bearer = try await server.send("POST", "/hooks/generic", headers: ["Authorization": "Bearer \(Signing.secret)"])
            #expect(bearer.status == 202)
            let signed = try await server.send(
                "POST", "/hooks/generic",
                headers: ["X-Pinwheel-Signature": Signing.signature(Signing.pushBody)],
                body: Signing.pushBody
            )
            #expect(signed.status == 202)
            let missing = try await server.send("POST", "/hooks/generic", body: Signing.pushBody)
            #expect(missing.status == 401)
            let events = await server.pushes.events
            #expect(events.map(\.branch) == [nil, "main"])
            #expect(events.map(\.form) == [.generic, .generic])
        }
    }

    @Test func healthzAnswersTheReportAsJSON() async throws {
        let report = HealthReport(
            status: "degraded",
            lastPoll: "2026-11-23T06:00:00Z",
            lastError: "staging: web-02 unreachable",
            environments: ["staging": "failed", "production": "converged"]
        )
        try await ServerHarness.run(secret: nil, health: { report }) { server in
            let reply = try await server.send("GET", "/healthz")
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "application/json")
            let decoded = try JSONDecoder().decode(HealthReport.self, from: Data(reply.body.utf8))
            #expect(decoded == report)
        }
    }

    @Test func healthzIs503WhenDown() async throws {
        try await ServerHarness.run(secret: secret, health: { HealthReport(status: "down", lastError: "config repository unreadable") }) { server in
            let reply = try await server.send("GET", "/healthz")
            #expect(reply.status == 503)
            #expect(reply.body == #"{"environments":{},"lastError":"config repository unreadable","status":"down"}"# + "\n")
        }
    }

    @Test func metricsAnswersTheExpositionAsText() async throws {
        let exposition = "# TYPE pinwheel_rollouts_total counter\npinwheel_rollouts_total{environment=\"prod\",result=\"converged\"} 2\n"
        try await ServerHarness.run(secret: nil, metrics: { Array(exposition.utf8) }) { server in
            let reply = try await server.send("GET", "/metrics")
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(reply.body == exposition)
            #expect(try await server.send("POST", "/metrics", body: "{}").status == 404)
        }
    }

    @Test func metricsIs404WithoutMetrics() async throws {
        try await ServerHarness.run(secret: nil) { server in
            let reply = try await server.send("GET", "/metrics")
            #expect(reply.status == 404)
        }
    }

    @Test func environmentsAnswerTheControllersJSON() async throws {
        let statuses = ["prod": #"{"environment":"prod","result":"converged"}"#, "staging": #"{"environment":"staging","result":"halted"}"#]
        let endpoint = EnvironmentsEndpoint(
            all: { Array(#"{"environments":[\#(statuses.keys.sorted().map { statuses[$0]! }.joined(separator: ","))]}"#.utf8) },
            one: { name in statuses[name].map { Array($0.utf8) } })
        try await ServerHarness.run(secret: nil, environments: endpoint) { server in
            let all = try await server.send("GET", "/api/v1/environments")
            #expect(all.status == 200)
            #expect(all.headers["content-type"] == "application/json")
            #expect(all.body == #"{"environments":[{"environment":"prod","result":"converged"},{"environment":"staging","result":"halted"}]}"#)
            let one = try await server.send("GET", "/api/v1/environments/staging")
            #expect(one.status == 200)
            #expect(one.body == statuses["staging"])
            let unknown = try await server.send("GET", "/api/v1/environments/nope")
            #expect(unknown.status == 404)
            #expect(unknown.headers["content-type"] == "application/json")
            let nested = try await server.send("GET", "/api/v1/environments/prod/extra")
            #expect(nested.status == 404)
        }
    }

    @Test func environmentsAre404WithoutTheEndpoint() async throws {
        try await ServerHarness.run(secret: nil) { server in
            let reply = try await server.send("GET", "/api/v1/environments")
            #expect(reply.status == 404)
        }
    }

    @Test func theStatusPageIsServedAtTheRootAsHTML() async throws {
        let html = "<!doctype html><title>Pinwheel</title>"
        try await ServerHarness.run(secret: nil, page: { Array(html.utf8) }) { server in
            let reply = try await server.send("GET", "/")
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "text/html; charset=utf-8")
            #expect(reply.headers["cache-control"] == "no-store")
            #expect(reply.body == html)
            // Read-only: nothing but GET.
            #expect(try await server.send("POST", "/", body: "{}").status == 404)
        }
    }

    @Test func healthzStatusCodes() {
        #expect(HealthReport(status: "ok").isServing)
        #expect(HealthReport(status: "degraded").isServing)
        #expect(!HealthReport(status: "down").isServing)
        #expect(!HealthReport(status: "OK ").isServing)
    }

    @Test func unknownPathsAndMethodsAre404() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let requests = [("GET", "/"), ("POST", "/hooks/bitbucket"), ("GET", "/hooks/github"), ("GET", "/healthz/extra")]
            for (method, path) in requests {
                let reply = try await server.send(method, path, body: method == "POST" ? "{}" : "")
                #expect(reply.status == 404, "\(method) \(path)")
            }
            #expect(await server.pushes.events.isEmpty)
        }
    }

    @Test func oversizeBodyIs413() async throws {
        try await ServerHarness.run(secret: secret, maxBodyBytes: 1024) { server in
            let big = String(repeating: "x", count: 4096)
            // Content-Length says too much: refused before the body is read.
            let declared = try await server.send(
                "POST", "/hooks/github",
                headers: ["X-Hub-Signature-256": Signing.signature(big), "X-GitHub-Event": "push"],
                body: big,
                bodyBytesToSend: 0
            )
            #expect(declared.status == 413)
            // Chunked, so only reading finds out.
            let chunked = try await server.send(
                "POST", "/hooks/generic",
                headers: ["Transfer-Encoding": "chunked", "Authorization": "Bearer \(Signing.secret)"],
                body: "1000\r\n\(big)\r\n0\r\n\r\n"
            )
            #expect(chunked.status == 413)
            #expect(await server.pushes.events.isEmpty)
        }
    }

    @Test func withoutASecretHooksAre404() async throws {
        try await ServerHarness.run(secret: nil) { server in
            for form in WebhookForm.allCases {
                let reply = try await server.send(
                    "POST", "/hooks/\(form)",
                    headers: ["Authorization": "Bearer anything", "X-Gitlab-Token": "anything"],
                    body: "{}"
                )
                #expect(reply.status == 404)
                #expect(reply.body == "webhooks are not configured\n")
            }
            let health = try await server.send("GET", "/healthz")
            #expect(health.status == 200)
            #expect(await server.pushes.events.isEmpty)
        }
    }

    @Test func logsNameRequestsButNeverTheSecretOrTheBody() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let body = #"{"ref":"refs/heads/main","marker":"BODY-MARKER"}"#
            _ = try await server.send("POST", "/hooks/github?token=QUERY-MARKER", headers: ["X-Hub-Signature-256": Signing.signature(body), "X-GitHub-Event": "push"], body: body)
            _ = try await server.send("POST", "/hooks/gitlab", headers: ["X-Gitlab-Token": Signing.secret, "X-Gitlab-Event": "Push Hook"], body: body)
            _ = try await server.send("POST", "/hooks/generic", headers: ["Authorization": "Bearer \(Signing.secret)x"], body: body)
            _ = try await server.send("GET", "/nowhere")
            let lines = server.logs.lines
            #expect(lines.contains { $0.contains("POST /hooks/github 202") })
            #expect(lines.contains { $0.contains("POST /hooks/gitlab 202") })
            #expect(lines.contains { $0.contains("POST /hooks/generic 401") })
            #expect(lines.contains { $0.contains("GET /nowhere 404") })
            #expect(lines.contains { $0.contains("webhook rejected: bearer token does not match") })
            for line in lines {
                #expect(!line.contains("Secret to Everybody"), "\(line)")
                #expect(!line.contains("BODY-MARKER"), "\(line)")
                #expect(!line.contains("QUERY-MARKER"), "\(line)")
            }
        }
    }

    @Test func anAddressInUseIsAClearError() async throws {
        try await ServerHarness.run(secret: nil) { server in
            let second = ControlServer(
                address: try ControlAddress(parsing: "127.0.0.1:\(server.port)"),
                secret: nil,
                onPush: { _ in },
                health: { HealthReport(status: "ok") }
            )
            let error = await #expect(throws: ControlServerError.self) { try await second.run() }
            let message = error.map { "\($0)" } ?? ""
            #expect(message.hasPrefix("control server cannot listen on 127.0.0.1:\(server.port): "), "\(message)")
            #expect(message.contains("in use"), "\(message)")
            await #expect(throws: ControlServerError.notListening) { try await second.listeningPort() }
        }
    }

    /// Without a ServiceGroup (or when the group cancels): cancelling the task stops the server and
    /// closes the port.
    @Test func cancellingTheTaskStopsTheServer() async throws {
        let server = ControlServer(
            address: try ControlAddress(parsing: "127.0.0.1:0"),
            secret: nil,
            logger: Logger(label: "test.control") { _ in SwiftLogNoOpLogHandler() },
            onPush: { _ in },
            health: { HealthReport(status: "ok") }
        )
        let task = Task { try await server.run() }
        let port = try await server.listeningPort()
        #expect(port > 0)
        let harness = ServerHarness(port: port, pushes: PushRecorder(), logs: LogCapture())
        let before = try await harness.send("GET", "/healthz")
        #expect(before.status == 200)
        task.cancel()
        _ = await task.result
        await #expect(throws: RawHTTPClient.Failure.self) { try await harness.send("GET", "/healthz") }
        await #expect(throws: ControlServerError.notListening) { try await server.listeningPort() }
    }

    /// A graceful shutdown of the controller's ServiceGroup lets a request in flight finish.
    @Test func gracefulShutdownFinishesRequestsInFlight() async throws {
        let started = AsyncStream.makeStream(of: Void.self)
        let server = ControlServer(
            address: try ControlAddress(parsing: "127.0.0.1:0"),
            secret: nil,
            logger: Logger(label: "test.control") { _ in SwiftLogNoOpLogHandler() },
            onPush: { _ in },
            health: {
                started.continuation.yield()
                try? await Task.sleep(for: .milliseconds(300))
                return HealthReport(status: "ok", environments: ["staging": "converged"])
            }
        )
        let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [], logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.listeningPort()
            let harness = ServerHarness(port: port, pushes: PushRecorder(), logs: LogCapture())
            async let reply = harness.send("GET", "/healthz")
            var iterator = started.stream.makeAsyncIterator()
            await iterator.next()
            await group.triggerGracefulShutdown()
            let answer = try await reply
            #expect(answer.status == 200)
            #expect(answer.body.contains("converged"))
            try await tasks.waitForAll()
        }
        await #expect(throws: ControlServerError.notListening) { try await server.listeningPort() }
    }
}
