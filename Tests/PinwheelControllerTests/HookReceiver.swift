import Foundation
import Hummingbird
import Logging
import Synchronization

/// A real HTTP server on 127.0.0.1 (a port the OS chooses) that receives notifications: `POST /hook/<name>` records
/// the body under `name`. A name can be told to fail its first requests with HTTP 500.
final class HookReceiver: Sendable {
    private struct State {
        var accepted: [String: [[UInt8]]] = [:]
        var requests: [String: Int] = [:]
        var failFirst: [String: Int] = [:]
        var port: Int?
    }

    /// A class, so the router's closures can share it.
    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    private let task = Mutex<Task<Void, any Error>?>(nil)

    /// Starts the server and waits until it listens.
    init(failingFirst: [String: Int] = [:]) async throws {
        shared.state.withLock { $0.failFirst = failingFirst }
        let shared = self.shared
        let router = Router()
        router.post("hook/:name") { request, context -> HTTPResponse.Status in
            let name = context.parameters.get("name") ?? ""
            let body = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            return shared.state.withLock { state in
                state.requests[name, default: 0] += 1
                if state.requests[name]! <= state.failFirst[name, default: 0] { return .internalServerError }
                state.accepted[name, default: []].append(body)
                return .noContent
            }
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in shared.state.withLock { $0.port = channel.localAddress?.port } },
            logger: Logger(label: "test.receiver") { _ in SwiftLogNoOpLogHandler() })
        task.withLock { $0 = Task { try await application.runService(gracefulShutdownSignals: []) } }
        let deadline = ContinuousClock.now + .seconds(10)
        while shared.state.withLock({ $0.port }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    var port: Int { shared.state.withLock { $0.port ?? 0 } }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/hook/\(name)" }

    /// The bodies `name` accepted, in order.
    func accepted(_ name: String) -> [[UInt8]] { shared.state.withLock { $0.accepted[name] ?? [] } }

    /// Every request `name` received, failed ones included.
    func requests(_ name: String) -> Int { shared.state.withLock { $0.requests[name] ?? 0 } }

    func stop() {
        task.withLock { $0?.cancel() }
    }
}
