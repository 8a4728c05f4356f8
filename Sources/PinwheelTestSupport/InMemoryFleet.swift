import Foundation
import PinwheelCore
import PinwheelFleet
import Synchronization

/// Hosts in memory for the controller's behavioural tests: a ``HostAgentFactory`` whose agents are the real
/// ``HostAgent`` over ``InMemoryHost`` transports, so the whole controller (poll, admission, rollout, revert,
/// publishing, quarantine, drift, promotion) runs against hosts that answer as the agent does, with no process.
///
/// Deterministic: nothing depends on time but what a test asks for (a hanging host), and every request a host
/// answered is kept in order (``exchanges``) for tests to assert on.
public final class InMemoryFleet: HostAgentFactory, Sendable {
    /// A step that fails: on every host whose slot has `pin` (fleet-wide), or on one host.
    public struct Failure: Sendable {
        /// The agent's name of the step: `prepare`, `start`, `check`, `route`, `verify`, `beforeSwitch`, `afterSwitch`.
        public var step: String
        /// The agent's step code (`install`, `health`, `nginxTest`, `hook`, …).
        public var code: FailureCode
        public var pin: String?
        public var message: String?
        /// How many more times it fails; always when nil.
        public var times: Int?
    }

    /// One round trip a host answered.
    public struct Exchange: Sendable, Equatable {
        public var host: String
        /// `observe` or `execute`.
        public var action: String
        public var steps: [HostPlan.Step]
        public var ok: Bool
        /// The failed step's code, or the reply's (nil for `stepFailed`, whose step says why).
        public var code: FailureCode?
        /// The lease epoch the request carried (nil from a controller that runs alone).
        public var epoch: Int64? = nil
    }

    /// What every host shares: the fleet-wide failures and the journal.
    final class Shared: Sendable {
        private let state = Mutex<(failures: [Failure], exchanges: [Exchange])>(([], []))

        var failures: [Failure] { state.withLock { $0.failures } }
        var exchanges: [Exchange] { state.withLock { $0.exchanges } }

        func add(_ failure: Failure) { state.withLock { $0.failures.append(failure) } }
        func record(_ exchange: Exchange) { state.withLock { $0.exchanges.append(exchange) } }
    }

    private let shared = Shared()
    private let hosts = Mutex<[String: InMemoryHost]>([:])
    /// Environments whose agents cannot be made (as when the config names an untrusted key).
    private let refused = Mutex<Set<String>>([])

    public init() {}

    /// The host named `name` (made on first use: a host the controller has never reached has nothing).
    public func host(_ name: String) -> InMemoryHost {
        hosts.withLock { hosts in
            if let host = hosts[name] { return host }
            let host = InMemoryHost(name: name, fleet: shared)
            hosts[name] = host
            return host
        }
    }

    /// Every host whose slot has `pin` fails `step` with `code` (say `check`/`health` for a release that does not
    /// start, `prepare`/`install` for a version the index lacks).
    public func fail(_ step: String, code: FailureCode, whenPinned pin: String, message: String? = nil) {
        shared.add(Failure(step: step, code: code, pin: pin, message: message, times: nil))
    }

    /// Making agents for `environment` throws, as the real factory does when the config names an untrusted key.
    public func refuseAgents(for environment: String) {
        refused.withLock { _ = $0.insert(environment) }
    }

    /// Every round trip answered so far, in order.
    public var exchanges: [Exchange] { shared.exchanges }

    /// The round trips answered after the first `mark` ones (`let mark = fleet.exchanges.count`).
    public func exchanges(since mark: Int) -> [Exchange] { Array(shared.exchanges.dropFirst(mark)) }

    public func agents(for environment: Environment, source: any ConfigSource, commit: String?) throws -> [HostAgent] {
        if refused.withLock({ $0.contains(environment.name) }) {
            throw FleetError(.untrustedLocalFile, "\(environment.name): the in-memory fleet refuses its hosts")
        }
        return environment.targets.map {
            HostAgent(target: $0, python: environment.python, transport: host($0.name), commit: commit)
        }
    }

    /// An environment file for `hosts` in-memory hosts named `web-01`… (addresses in 192.0.2.0/24, documentation
    /// addresses nothing ever connects to), in the shape `scripts/fleet` writes for a real fleet.
    public static func environmentFile(hosts: [String]) -> String {
        var lines = [
            "app: hello",
            "python: /usr/bin/python3",
            "source:",
            "  index: http://192.0.2.1/simple/",
            "active: A",
            "slots:",
            "  A: A.txt",
            "  B: B.txt",
            "programs:",
            "  web:",
            "    command: hello-service --port {port}",
            "    processes: 2",
            "    port: {A: 8100, B: 8200}",
            "    health: {path: /healthz, status: 200, timeout: 2s}",
            "  worker:",
            "    command: hello-worker",
            "policy: local",
            "defaults:",
            "  user: root",
            "  port: 22",
            "  knownHosts: /nonexistent/known_hosts",
            "  root: /srv/pinwheel",
            "  supervisor: {include: /etc/supervisor/conf.d, ctl: supervisorctl}",
            "  nginx: {upstream: /etc/nginx/pinwheel/hello.conf, test: nginx -t, reload: nginx -s reload}",
            "hosts:",
        ]
        for (index, name) in hosts.enumerated() {
            lines += ["  - name: \(name)", "    address: 192.0.2.\(index + 10)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
