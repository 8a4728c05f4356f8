import Foundation
import Logging
import ServiceLifecycle

@testable import PinwheelWebhooks

/// Runs a ``ControlServer`` on 127.0.0.1 port 0 in a `ServiceGroup` for the length of a test, and
/// shuts it down gracefully afterwards, as the controller will.
struct ServerHarness {
    let port: Int
    let pushes: PushRecorder
    let logs: LogCapture

    /// Sends a request from another thread: the client blocks, the test's executor must not.
    func send(
        _ method: String,
        _ path: String,
        headers: [String: String] = [:],
        body: String = "",
        contentLength: Int? = nil,
        bodyBytesToSend: Int? = nil
    ) async throws -> RawHTTPClient.Reply {
        let client = RawHTTPClient(port: port)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    try client.send(
                        method, path, headers: headers, body: Array(body.utf8),
                        contentLength: contentLength, bodyBytesToSend: bodyBytesToSend
                    )
                })
            }
        }
    }

    static func run(
        secret: SecretBytes?,
        accessToken: SecretBytes? = nil,
        limits: ControlLimits = ControlLimits(),
        maxBodyBytes: Int = ControlServer.defaultMaxBodyBytes,
        health: @escaping @Sendable () async -> HealthReport = { HealthReport(status: "ok") },
        metrics: (@Sendable () async -> [UInt8])? = nil,
        environments: EnvironmentsEndpoint? = nil,
        page: (@Sendable () async -> [UInt8])? = nil,
        targets: (@Sendable () async -> [UInt8])? = nil,
        _ test: (ServerHarness) async throws -> Void
    ) async throws {
        let pushes = PushRecorder()
        let logs = LogCapture()
        let logger = Logger(label: "test.control") { _ in CapturingLogHandler(capture: logs) }
        let server = ControlServer(
            address: try ControlAddress(parsing: "127.0.0.1:0"),
            secret: secret,
            accessToken: accessToken,
            limits: limits,
            maxBodyBytes: maxBodyBytes,
            logger: logger,
            onPush: { await pushes.record($0) },
            health: health,
            metrics: metrics,
            environments: environments,
            page: page,
            targets: targets
        )
        let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Result<Void, any Error>
            do {
                let port = try await server.listeningPort()
                try await test(ServerHarness(port: port, pushes: pushes, logs: logs))
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try outcome.get()
        }
        // Once stopped, the server says so instead of making callers wait forever.
        do {
            _ = try await server.listeningPort()
            throw ControlServerError.cannotListen(address: "test", reason: "listeningPort() answered after shutdown")
        } catch ControlServerError.notListening {}
    }
}

/// The pushes the trigger closure received.
actor PushRecorder {
    private(set) var events: [WebhookEvent] = []

    func record(_ event: WebhookEvent) {
        events.append(event)
    }
}

/// Every log line, with its metadata, so tests can check what is and is not logged.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    func append(_ line: String) {
        lock.withLock { storage.append(line) }
    }

    var lines: [String] { lock.withLock { storage } }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(event.message) \(rendered)")
    }
}
