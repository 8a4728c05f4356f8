import Foundation
import PinwheelCore

/// One event about an environment, as a generic webhook receives it: a JSON object, schema
/// `pinwheel.notification/v1` (documented in docs/controller.md). Optional fields are left out when unknown.
public struct NotificationEvent: Sendable, Hashable, Codable {
    public static let schemaVersion = "pinwheel.notification/v1"

    public var schema = NotificationEvent.schemaVersion
    public var event: NotificationKind
    public var environment: String
    /// The desired commit (the config commit the event is about).
    public var commit: String
    /// The commit's summary line and its author, when the controller could read them.
    public var summary: String?
    public var author: Author?
    /// The status the controller recorded (`converged`, `halted`, `refused`, `waiting`, `degraded`, …); none for
    /// `started`.
    public var result: String?
    /// One line a person reads.
    public var title: String
    /// The status's message: why it halted, what it waits for.
    public var message: String
    /// The hosts the event is about: those changing (started), drifted (drift), or every host (the others).
    public var hosts: [Host]
    /// Why the status says what it says (code, step, message), when it says: the status's `reason`.
    public var reason: StatusReason?
    /// The revert the controller committed (`reverted`).
    public var revert: String?
    /// The newer commit that stopped the rollout (`superseded`), and the hosts the rollout had switched by then.
    public var supersededBy: String?
    public var switched: [String]?
    /// The environment on the controller's status page, when it has one (`watch --listen`).
    public var link: String?
    /// When the controller sent it, ISO 8601 UTC.
    public var time: String
    /// Each bake's verdict and measurements (`bake:`, `analysis:`), when the policy has them.
    public var analysis: [StageAnalysis]?

    public struct Author: Sendable, Hashable, Codable {
        public var name: String
        public var email: String

        public init(name: String, email: String) {
            self.name = name
            self.email = email
        }
    }

    public struct Host: Sendable, Hashable, Codable {
        public var name: String
        /// The slot it serves, when known.
        public var serving: String?
        /// The pins of the slot it serves.
        public var pins: [String]?
        public var healthy: Bool?
        /// Why it failed: one line, and the same as data (code, step, message).
        public var error: String?
        public var reason: StatusReason?
        /// What the host printed about its failure (bounded and escaped): a notification may carry it, git never does.
        public var detail: String?

        public init(name: String, serving: String? = nil, pins: [String]? = nil, healthy: Bool? = nil, error: String? = nil,
                    reason: StatusReason? = nil, detail: String? = nil) {
            self.name = name
            self.serving = serving
            self.pins = pins
            self.healthy = healthy
            self.error = error
            self.reason = reason
            self.detail = detail
        }
    }

    public init(event: NotificationKind, environment: String, commit: String, result: String? = nil, title: String,
                message: String = "", hosts: [Host] = [], time: String) {
        self.event = event
        self.environment = environment
        self.commit = commit
        self.result = result
        self.title = title
        self.message = message
        self.hosts = hosts
        self.time = time
    }

    /// The event a recorded status stands for: its result, hosts, message and revert.
    public init(_ kind: NotificationKind, status: EnvironmentStatus, time: String) {
        self.init(event: kind, environment: status.environment, commit: status.desired, result: status.result.rawValue,
                  title: status.summary, message: status.message, hosts: Self.hosts(of: status), time: time)
        revert = status.revert
        reason = status.cause
        analysis = status.analysis
        if kind == .reverted, let revert {
            title += " — reverted by \(revert.prefix(7))"
        }
        if let superseded = status.superseded {
            supersededBy = superseded.by
            switched = superseded.switched
            title += " — superseded by \(superseded.by.prefix(7))"
        }
    }

    static func hosts(of status: EnvironmentStatus) -> [Host] {
        status.hosts.keys.sorted().map { name in
            let host = status.hosts[name]!
            return Host(name: name, serving: host.serving?.rawValue, pins: host.serving.flatMap { host.slots[$0.rawValue] },
                        healthy: host.healthy, error: host.error, reason: host.reason)
        }
    }

    /// The JSON a generic webhook receives: keys sorted, so a receiver (or a test) sees stable bytes.
    public func webhookBody() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map(Array.init) ?? []
    }
}
