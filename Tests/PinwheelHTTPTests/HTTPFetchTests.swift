import Foundation
import Hummingbird
import Logging
import PinwheelHTTP
import PinwheelTestSupport
import Synchronization
import Testing

/// The controller's HTTP client against a real server on loopback: what it sends, what it keeps of an answer, and
/// every way a request fails as a reason in words that never show the URL.
@Suite("HTTP requests")
struct HTTPFetchTests {
    @Test func anAnswerComesWithItsStatusAndTheURLsCredentialsGoAsBasicAuthentication() async throws {
        let server = try await LocalServer()
        defer { server.stop() }
        let url = URL(string: "http://reader:s%20cret@127.0.0.1:\(server.port)/echo?x=1")!
        let answer = try await HTTPFetch.send(.post, to: url, headers: [("Content-Type", "application/json")],
                                              body: Array(#"{"a":1}"#.utf8), timeout: .seconds(10), limit: 1 << 20)
        #expect(answer.status == 201)
        let echoed = String(decoding: answer.body, as: UTF8.self)
        #expect(echoed.contains("method=POST"), "\(echoed)")
        #expect(echoed.contains("query=x=1"), "\(echoed)")
        #expect(echoed.contains("authorization=Basic \(Data("reader:s cret".utf8).base64EncodedString())"), "\(echoed)")
        #expect(echoed.contains("agent=pinwheel"), "\(echoed)")
        #expect(echoed.hasSuffix(#"body={"a":1}"#), "\(echoed)")
    }

    @Test func anAnswerLongerThanTheLimitIsAnErrorNotACut() async throws {
        let server = try await LocalServer()
        defer { server.stop() }
        let url = URL(string: "http://127.0.0.1:\(server.port)/large")!
        #expect(try await HTTPFetch.send(.get, to: url, timeout: .seconds(10), limit: 5000).body.count == 4000)
        await #expect(throws: HTTPFetchError(.tooLarge)) {
            try await HTTPFetch.send(.get, to: url, timeout: .seconds(10), limit: 3999)
        }
    }

    @Test func aRefusedConnectionFailsAtOnce() async throws {
        let port = try FreePort.next()
        let started = ContinuousClock.now
        await #expect(throws: HTTPFetchError(.cannotConnect)) {
            try await HTTPFetch.send(.get, to: URL(string: "http://127.0.0.1:\(port)/")!, timeout: .seconds(20), limit: 100)
        }
        #expect(ContinuousClock.now - started < .seconds(5), "not retried until the deadline")
    }

    @Test func aServerThatNeverAnswersTimesOutAtTheDeadline() async throws {
        let silent = try SilentListener()
        let started = ContinuousClock.now
        await #expect(throws: HTTPFetchError(.timedOut)) {
            try await HTTPFetch.send(.get, to: URL(string: "http://127.0.0.1:\(silent.port)/")!, timeout: .milliseconds(500), limit: 100)
        }
        let took = ContinuousClock.now - started
        #expect(took >= .milliseconds(450) && took < .seconds(5), "\(took)")
    }

    @Test func onlyHTTPAndHTTPSAreFetchedAndNoReasonShowsTheURL() async throws {
        for address in ["ftp://127.0.0.1/x", "file:///etc/passwd", "http:///nohost"] {
            await #expect(throws: HTTPFetchError(.badURL)) {
                try await HTTPFetch.send(.get, to: URL(string: address)!, timeout: .seconds(1), limit: 100)
            }
        }
        let port = try FreePort.next()
        do {
            _ = try await HTTPFetch.send(.get, to: URL(string: "https://user:s3cret@127.0.0.1:\(port)/T/SECRET")!,
                                         timeout: .seconds(5), limit: 100)
            Issue.record("nothing listens there")
        } catch {
            #expect(!error.description.contains("s3cret") && !error.description.contains("SECRET"), "\(error)")
        }
    }

    @Test func httpsToAServerThatSpeaksNoTLSFailsAsTLS() async throws {
        // A TLS handshake against a plain HTTP server fails as TLS, never as an answer.
        let server = try await LocalServer()
        defer { server.stop() }
        await #expect(throws: HTTPFetchError(.tls)) {
            try await HTTPFetch.send(.get, to: URL(string: "https://127.0.0.1:\(server.port)/large")!, timeout: .seconds(10), limit: 1 << 20)
        }
    }
}

/// A real HTTP server on 127.0.0.1 (a port the OS chooses): `/echo` answers 201 with what it received, `/large`
/// with 4000 bytes.
private final class LocalServer: Sendable {
    /// A class, so the server's callback can share it.
    private final class Shared: Sendable {
        let port = Mutex<Int?>(nil)
    }

    private let shared = Shared()
    private let task = Mutex<Task<Void, any Error>?>(nil)

    init() async throws {
        let router = Router()
        router.post("echo") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let text = "method=\(request.method) query=\(request.uri.query ?? "") "
                + "authorization=\(request.headers[.authorization] ?? "") agent=\(request.headers[.userAgent] ?? "") body=\(body)"
            return Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("large") { _, _ in String(repeating: "x", count: 4000) }
        let shared = self.shared
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in shared.port.withLock { $0 = channel.localAddress?.port } },
            logger: Logger(label: "test.http") { _ in SwiftLogNoOpLogHandler() })
        task.withLock { $0 = Task { try await application.runService(gracefulShutdownSignals: []) } }
        let deadline = ContinuousClock.now + .seconds(10)
        while shared.port.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    var port: Int { shared.port.withLock { $0 ?? 0 } }

    func stop() {
        task.withLock { $0?.cancel() }
    }
}
