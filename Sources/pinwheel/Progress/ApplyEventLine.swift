import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// `pinwheel apply --json`: one JSON object per line for each thing the engine does, so a CI job or a script can
/// follow a rollout as it happens. Schema `pinwheel.apply/v1` (documented in docs/commands.md): every line has `v` (1)
/// and `event`; the other fields depend on the event and are left out when they do not apply. Fields are only ever
/// added within a version.
public struct ApplyEventLine: Sendable, Hashable, Codable {
    public static let version = 1

    public var v = ApplyEventLine.version
    /// `apply.started`, `host.observed`, `host.unreachable`, `planned`, `stage.started`, `host.started`,
    /// `host.finished`, `rollout.finished`, `apply.finished`.
    public var event: String
    public var time: String?
    public var environment: String?
    public var commit: String?
    public var host: String?
    public var stage: String?
    public var hosts: [String]?
    /// Hosts that need a change (`planned`), or the environment's hosts (`apply.started`).
    public var changing: Int?
    public var total: Int?
    public var steps: [Step]?
    public var ok: Bool?
    public var seconds: Double?
    /// Why a host failed, as a ``FailureCode`` (`health`, `install`, `unreachable`, …), and the step that failed.
    public var code: String?
    public var failedStep: String?
    public var error: String?
    public var result: String?
    public var message: String?
    /// `rollout.finished`: each failed host's diagnosis (`reasons` has the same as data).
    public var failures: [String: String]?
    public var reasons: [String: StatusReason]?
    /// `rollout.finished`: the environment's reason, when a host failed (the first failed host's).
    public var reason: StatusReason?
    /// `apply.finished`: the exit status apply ends with.
    public var exit: Int?

    public struct Step: Sendable, Hashable, Codable {
        public var step: String
        public var ok: Bool?
        public var seconds: Double?

        public init(step: String, ok: Bool? = nil, seconds: Double? = nil) {
            self.step = step
            self.ok = ok
            self.seconds = seconds
        }
    }

    public init(event: String) {
        self.event = event
    }

    /// The lines an engine event stands for: a stage's start is followed by a `host.started` line per host.
    public static func lines(for event: ReconcileEvent) -> [ApplyEventLine] {
        switch event {
        case let .observed(host, plan):
            var line = ApplyEventLine(event: "host.observed")
            line.host = host
            line.steps = plan.steps.map { Step(step: $0.description) }
            return [line]
        case let .planned(plans, total):
            var line = ApplyEventLine(event: "planned")
            line.changing = plans.filter { !$0.isEmpty }.count
            line.total = total
            return [line]
        case let .unreachable(host, error):
            var line = ApplyEventLine(event: "host.unreachable")
            line.host = host
            line.code = error.code.rawValue
            line.error = error.message
            return [line]
        case let .started(action):
            guard let stage = action.stage else { return [] }
            var line = ApplyEventLine(event: "stage.started")
            line.stage = stage.name
            line.hosts = action.hosts
            if case let .pause(duration) = action { line.seconds = duration.duration.inSeconds }
            return [line] + (stage.runsHostSteps ? action.hosts.map { host in
                var started = ApplyEventLine(event: "host.started")
                started.host = host
                started.stage = stage.name
                return started
            } : [])
        case let .phase(result, stage):
            var line = ApplyEventLine(event: "host.finished")
            line.host = result.host
            line.stage = stage.name
            line.ok = result.ok
            line.seconds = Self.rounded(result.duration.inSeconds)
            line.steps = result.outcomes.map { Step(step: $0.step.description, ok: $0.ok, seconds: Self.rounded($0.seconds)) }
            line.code = result.error?.code.rawValue
            line.failedStep = result.error?.step
            line.error = result.error?.message
            return [line]
        case let .finished(outcome):
            var line = ApplyEventLine(event: "rollout.finished")
            line.result = outcome.result.rawValue
            line.message = outcome.message
            line.failures = outcome.failures.mapValues(\.description)
            if !outcome.failures.isEmpty { line.reasons = outcome.failures.mapValues(\.reason) }
            line.reason = outcome.reason
            return [line]
        }
    }

    /// The line as apply prints it: compact, keys sorted, no newline.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"v":1,"event":"unencodable"}"#
    }

    static func rounded(_ seconds: Double) -> Double {
        (seconds * 1000).rounded() / 1000
    }
}
