import Foundation
import Testing

@testable import PinwheelWebhooks

/// `GET /prometheus/targets`: the service discovery answer, as JSON, behind the access token like `/metrics`.
@Suite("Control server: Prometheus service discovery")
struct ScrapeTargetsRouteTests {
    static let answer = #"[{"labels":{"environment":"prod","slot":"B"},"targets":["10.0.0.5:8200"]}]"# + "\n"

    @Test func theTargetsAreServedAsJSON() async throws {
        try await ServerHarness.run(secret: nil, targets: { Array(Self.answer.utf8) }) { server in
            let reply = try await server.send("GET", "/prometheus/targets")
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "application/json")
            #expect(reply.body == Self.answer)
        }
    }

    @Test func withoutTargetsTheRouteIs404() async throws {
        try await ServerHarness.run(secret: nil) { server in
            let reply = try await server.send("GET", "/prometheus/targets")
            #expect(reply.status == 404)
        }
    }

    @Test func theAccessTokenGuardsThem() async throws {
        try await ServerHarness.run(secret: nil, accessToken: SecretBytes("sd-token"), targets: { Array(Self.answer.utf8) }) { server in
            let refused = try await server.send("GET", "/prometheus/targets")
            #expect(refused.status == 401)
            #expect(!refused.body.contains("10.0.0.5"))
            let served = try await server.send("GET", "/prometheus/targets", headers: ["Authorization": "Bearer sd-token"])
            #expect(served.status == 200)
            #expect(served.body == Self.answer)
        }
    }
}
