import Foundation
import PinwheelCore

/// What the host agent answered.
struct AgentReply: Decodable, Sendable {
    struct StepResult: Decodable, Sendable {
        var step: AgentRequest.Step
        var ok: Bool
        var seconds: Double
        var output: [String]
        var error: String?
    }

    var ok: Bool
    var error: String?
    var steps: [StepResult]?
    var observation: HostObservation?
    /// The switch made in the same round trip as an observation (`routeIfReady`).
    var routed: Routed?

    struct Routed: Decodable, Sendable {
        var ok: Bool
        var error: String?
        var steps: [StepResult]?
        var observation: HostObservation?
    }

    static let marker = "PINWHEEL-RESULT "

    /// Finds the agent's answer in what the host printed; nil when the agent never got to answer.
    static func parse(_ output: String) -> AgentReply? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(marker) }) else { return nil }
        return try? JSONDecoder().decode(AgentReply.self, from: Data(line.dropFirst(marker.count).utf8))
    }
}
