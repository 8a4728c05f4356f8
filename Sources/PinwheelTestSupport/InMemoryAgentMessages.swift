import Foundation
import PinwheelCore

/// The part of the agent's request an in-memory host reads, decoded from the `REQUEST` line of the script the real
/// ``PinwheelFleet/HostAgent`` sends (base64 of the request's JSON, as `pinwheel_agent.py`'s `main` decodes it).
struct InMemoryRequest: Decodable, Sendable {
    var `protocol`: Int
    var action: String
    var steps: [HostPlan.Step]
    var slots: PerSlot<ResolvedSlot>
    var commit: String?
    var fullObservation: Bool
    var environment: String
    /// The controller's lease epoch, when several share the fleet.
    var epoch: Int64?

    init?(script: String) {
        let prefix = "REQUEST = \""
        guard let line = script.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
              let data = Data(base64Encoded: String(line.dropFirst(prefix.count).dropLast())),
              let request = try? JSONDecoder().decode(InMemoryRequest.self, from: data) else { return nil }
        self = request
    }
}

/// A protocol 2 reply in the agent's shape: `reply(ok, code, error, steps, observation)` with every key present, and
/// each step as `step_result` writes it.
struct InMemoryReply: Encodable, Sendable {
    struct StepResult: Encodable, Sendable {
        var step: HostPlan.Step
        var ok: Bool
        var seconds = 0.0
        var output: [String] = []
        /// nil for a failed step, as the agent has it.
        var changed: Bool?
        var code: String?
        var error: String?

        private enum CodingKeys: String, CodingKey { case step, ok, seconds, output, changed, code, error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(step, forKey: .step)
            try container.encode(ok, forKey: .ok)
            try container.encode(seconds, forKey: .seconds)
            try container.encode(output, forKey: .output)
            try container.encode(changed, forKey: .changed)
            try container.encode(code, forKey: .code)
            try container.encode(error, forKey: .error)
        }
    }

    var ok: Bool
    var code: String?
    var error: String?
    var steps: [StepResult] = []
    var observation: HostObservation?

    private enum CodingKeys: String, CodingKey { case `protocol`, ok, code, error, steps, observation }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(2, forKey: .protocol)
        try container.encode(ok, forKey: .ok)
        try container.encode(code, forKey: .code)
        try container.encode(error, forKey: .error)
        try container.encode(steps, forKey: .steps)
        try container.encode(observation, forKey: .observation)
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"protocol": 2, "ok": false}"#
    }
}
