import Foundation
import PinwheelController
import PinwheelTestSupport
import Testing

/// The analysis's Prometheus client against a real Prometheus: one number per query, no data as nil, and every way a
/// query can fail as an error that says why (never a number).
@Suite("Prometheus client")
struct PrometheusClientTests {
    @Test(.tags(.fleet)) func aRealPrometheusAnswersOneNumberPerQuery() async throws {
        let directory = try TemporaryDirectory()
        let server = try PrometheusServer(scraping: [], in: "\(directory.path)/prometheus")
        defer { server.stop() }
        try await server.waitUntilReady()
        let client = PrometheusClient(base: server.url)

        #expect(try await client.value(of: "vector(0.25)") == 0.25)
        #expect(try await client.value(of: "scalar(vector(3))") == 3)
        #expect(try await client.value(of: #"up{job="nothing-scrapes-this"}"#) == nil, "an empty vector is no data")
        #expect(try await client.value(of: "vector(0) / vector(0)") == nil, "NaN (no requests at all) is no data")
        await #expect(throws: PrometheusClient.Failure.self) { try await client.value(of: #"vector(1) or label_replace(vector(2), "a", "b", "", "")"#) }
        do {
            _ = try await client.value(of: "sum(rate(")
            Issue.record("a broken query answered")
        } catch let failure as PrometheusClient.Failure {
            #expect(failure.description.contains("refused the query"), "\(failure)")
        }
        do {
            _ = try await client.value(of: "up[1m]")
            Issue.record("a range vector answered")
        } catch let failure as PrometheusClient.Failure {
            #expect(failure.description.contains("matrix"), "\(failure)")
        }

        server.stop()
        do {
            _ = try await client.value(of: "vector(1)")
            Issue.record("a stopped server answered")
        } catch let failure as PrometheusClient.Failure {
            #expect(failure.description.contains("did not answer"), "\(failure)")
        }
    }

    @Test func credentialsNeverShowInMessages() async throws {
        let port = try FreePort.next()
        let client = PrometheusClient(base: URL(string: "http://reader:s3cret@127.0.0.1:\(port)/prom")!, timeout: 2)
        #expect(client.shown == "http://127.0.0.1:\(port)/prom")
        do {
            _ = try await client.value(of: "vector(1)")
            Issue.record("nothing listens there")
        } catch {
            #expect(!"\(error)".contains("s3cret"), "\(error)")
        }
    }
}
