import Foundation
import Testing

@testable import PinwheelWebhooks

extension Tag {
    /// Hostile cases: what an attacker (a pull request, a host, a network) tries, and that it does not work.
    @Tag static var security: Self
}

/// The control server against hostile clients: real HTTP on 127.0.0.1, a server on port 0.
@Suite("ControlServer security", .serialized, .timeLimit(.minutes(2)), .tags(.security))
struct ControlServerSecurityTests {
    let secret = SecretBytes(Signing.secret)
    static let token = "page-token-7f3a9c"

    static let page: @Sendable () async -> [UInt8] = { Array("<html>web-01 10.0.0.1 ops@example.com</html>".utf8) }
    static let metrics: @Sendable () async -> [UInt8] = { Array("pinwheel_up 1\n".utf8) }
    static let environments = EnvironmentsEndpoint(all: { Array(#"{"environments":[]}"#.utf8) }, one: { _ in nil })

    /// Runs blocking socket work off the test's executor.
    func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    @Test func withATokenThePageTheAPIAndMetricsAreRefusedWithoutIt() async throws {
        try await ServerHarness.run(secret: secret, accessToken: SecretBytes(Self.token), metrics: Self.metrics,
                                    environments: Self.environments, page: Self.page) { server in
            for path in ["/", "/metrics", "/api/v1/environments", "/api/v1/environments/production", "/nothing-here"] {
                for authorization in [nil, "Bearer wrong-token", "Bearer \(Self.token)x", "Basic " + Data("u:nope".utf8).base64EncodedString(),
                                      "Token \(Self.token)", "Bearer"] {
                    let reply = try await server.send("GET", path, headers: authorization.map { ["Authorization": $0] } ?? [:])
                    #expect(reply.status == 401, "\(path) with \(authorization ?? "nothing")")
                    #expect(!reply.body.contains("web-01") && !reply.body.contains("pinwheel_up"), "\(path)")
                    #expect(reply.headers["www-authenticate"]?.contains("Bearer") == true)
                }
            }
            // With it: served, as a bearer token or as the password of Basic authentication (what a browser sends).
            let bearer = try await server.send("GET", "/metrics", headers: ["Authorization": "Bearer \(Self.token)"])
            #expect(bearer.status == 200)
            #expect(bearer.body == "pinwheel_up 1\n")
            let basic = try await server.send("GET", "/", headers: ["Authorization": "Basic " + Data("ops:\(Self.token)".utf8).base64EncodedString()])
            #expect(basic.status == 200)
            #expect(basic.body.contains("web-01"))
            let api = try await server.send("GET", "/api/v1/environments", headers: ["Authorization": "bearer \(Self.token)"])
            #expect(api.status == 200)
            // /healthz and the hooks keep their own rules: no token needed (the hooks' secret still is).
            #expect(try await server.send("GET", "/healthz").status == 200)
            let hook = try await server.send("POST", "/hooks/generic", headers: ["Authorization": "Bearer \(Signing.secret)"])
            #expect(hook.status == 202)
            // The token never reaches the log.
            #expect(!server.logs.lines.contains { $0.contains(Self.token) })
        }
    }

    @Test func withoutATokenEverythingIsServedAsBefore() async throws {
        try await ServerHarness.run(secret: nil, metrics: Self.metrics, page: Self.page) { server in
            let page = try await server.send("GET", "/")
            let metrics = try await server.send("GET", "/metrics")
            #expect(page.status == 200 && metrics.status == 200)
        }
    }

    @Test func everyAnswerCarriesTheSecurityHeaders() async throws {
        try await ServerHarness.run(secret: secret, accessToken: SecretBytes(Self.token), metrics: Self.metrics,
                                    environments: Self.environments, page: Self.page) { server in
            let authorized = ["Authorization": "Bearer \(Self.token)"]
            let replies = [
                try await server.send("GET", "/", headers: authorized),
                try await server.send("GET", "/"),
                try await server.send("GET", "/metrics", headers: authorized),
                try await server.send("GET", "/api/v1/environments/none", headers: authorized),
                try await server.send("GET", "/healthz"),
                try await server.send("GET", "/no-such-route", headers: authorized),
                try await server.send("POST", "/hooks/github", headers: ["X-GitHub-Event": "push"], body: "{}"),
                try await server.send("POST", "/hooks/generic", contentLength: 2 << 20),
            ]
            #expect(Set(replies.map(\.status)) == [200, 401, 404, 413])
            for reply in replies {
                let policy = reply.headers["content-security-policy"] ?? ""
                #expect(policy.contains("frame-ancestors 'none'"), "\(reply.status)")
                #expect(policy.contains("default-src 'none'"), "\(reply.status)")
                #expect(!policy.contains("script-src"), "no script is ever allowed")
                #expect(reply.headers["x-content-type-options"] == "nosniff", "\(reply.status)")
                #expect(reply.headers["x-frame-options"] == "DENY", "\(reply.status)")
            }
        }
    }

    @Test func anIdleConnectionAndASlowHeaderAreDropped() async throws {
        try await ServerHarness.run(secret: secret, limits: ControlLimits(idleTimeout: .seconds(1), maxConnections: 16)) { server in
            let port = server.port
            let started = ContinuousClock.now
            let (idleClosed, slowClosed) = try await offThread {
                let idle = try IdleSocket(port: port)
                // A "slowloris": a request head that never ends, one header line at a time.
                let slow = try IdleSocket(port: port)
                slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
                for index in 0..<4 {
                    Thread.sleep(forTimeInterval: 0.4)
                    slow.send("X-Slow-\(index): y\r\n")
                }
                return (idle.waitForClose(seconds: 15), slow.waitForClose(seconds: 15))
            }
            #expect(idleClosed, "an idle connection is closed")
            #expect(slowClosed, "a request head that never ends is closed")
            #expect(ContinuousClock.now - started < .seconds(14))
            // The server still serves others.
            #expect(try await server.send("GET", "/healthz").status == 200)
        }
    }

    @Test func connectionsAreCapped() async throws {
        try await ServerHarness.run(secret: secret, limits: ControlLimits(idleTimeout: .seconds(3), maxConnections: 2)) { server in
            let port = server.port
            let (waited, servedAfter) = try await offThread { () -> (String, String) in
                // Two connections hold the cap.
                let first = try IdleSocket(port: port)
                let second = try IdleSocket(port: port)
                Thread.sleep(forTimeInterval: 0.3)
                // A third gets through the kernel's backlog but is not served while they are open.
                let third = try IdleSocket(port: port)
                third.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let waited = third.read(seconds: 1)
                // The idle timeout closes the two; the third is then accepted and answered.
                _ = first.waitForClose(seconds: 10)
                _ = second.waitForClose(seconds: 10)
                return (waited, third.read(seconds: 10))
            }
            #expect(waited.isEmpty, "over the cap, a connection waits: \(waited)")
            #expect(servedAfter.hasPrefix("HTTP/1.1 200"), "\(servedAfter)")
        }
    }

    @Test func aGenericDeliveryWithoutAnIdIsANewPushEvenWithTheSameBody() async throws {
        try await ServerHarness.run(secret: secret) { server in
            let headers = ["Authorization": "Bearer \(Signing.secret)"]
            let body = #"{"ref":"refs/heads/main"}"#
            for _ in 0..<3 {
                let reply = try await server.send("POST", "/hooks/generic", headers: headers, body: body)
                #expect(reply.status == 202)
            }
            #expect(await server.pushes.events.count == 3)
            // With an id, the id is what is remembered: the same id again is a replay, a new one a push.
            var identified = headers
            identified["X-Request-Id"] = "deploy-1"
            #expect(try await server.send("POST", "/hooks/generic", headers: identified, body: body).status == 202)
            #expect(try await server.send("POST", "/hooks/generic", headers: identified, body: body).status == 200)
            identified["X-Request-Id"] = "deploy-2"
            #expect(try await server.send("POST", "/hooks/generic", headers: identified, body: body).status == 202)
            #expect(await server.pushes.events.count == 5)
        }
    }
}

/// The access token's parsing and comparison, without a server.
@Suite("Access guard")
struct AccessGuardTests {
    @Test func onlyThePageTheAPIAndMetricsNeedTheToken() {
        let open = AccessGuard(token: nil)
        let guarded = AccessGuard(token: SecretBytes("t0ken-value"))
        for path in ["/", "/metrics", "/api/v1/environments", "/api/v1/environments/x", "/favicon.ico"] {
            #expect(open.allows(path: path, authorization: nil))
            #expect(!guarded.allows(path: path, authorization: nil))
            #expect(guarded.allows(path: path, authorization: "Bearer t0ken-value"))
            #expect(!guarded.allows(path: path, authorization: "Bearer t0ken-valu"))
        }
        for path in ["/healthz", "/hooks/github", "/hooks/gitlab", "/hooks/generic"] {
            #expect(guarded.allows(path: path, authorization: nil))
        }
    }

    @Test func theTokenIsReadFromBearerOrBasic() {
        #expect(AccessGuard.presentedToken("Bearer abc") == "abc")
        #expect(AccessGuard.presentedToken("bearer   abc ") == "abc")
        #expect(AccessGuard.presentedToken("Basic " + Data("anyone:p:w".utf8).base64EncodedString()) == "p:w")
        #expect(AccessGuard.presentedToken("Basic not-base64!") == nil)
        #expect(AccessGuard.presentedToken("Basic " + Data("nocolon".utf8).base64EncodedString()) == nil)
        #expect(AccessGuard.presentedToken("Digest abc") == nil)
        #expect(AccessGuard.presentedToken("") == nil)
        #expect(AccessGuard.presentedToken(nil) == nil)
    }
}
