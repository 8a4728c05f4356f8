import Foundation
import PinwheelCore

/// What the host agent answered (protocol 2).
struct AgentReply: Decodable, Sendable {
    struct StepResult: Decodable, Sendable {
        var step: HostPlan.Step
        var ok: Bool
        var seconds: Double
        var output: [String]
        /// Whether the step changed anything on the host (a switch to the slot nginx already routes to does not).
        var changed: Bool?
        /// Why it failed, as a code (`install`, `health`, `nginxTest`, …; see ``FailureCode``), Pinwheel's diagnosis
        /// in one line, and what the host printed about it.
        var code: String?
        var error: String?
        var detail: String?
        /// A `route` step's time until nginx answered from the new slot.
        var nginxVerifySeconds: Double?
    }

    var `protocol`: Int?
    var ok: Bool
    /// Why the request failed as a whole: `protocol`, `badRequest`, `locked`, `stepFailed`, `internal`.
    var code: String?
    var error: String?
    var steps: [StepResult]?
    var observation: HostObservation?
    /// With `artifacts`: the files the host lacks, and how many bytes of each it has in a partial file.
    var missing: [MissingArtifact]?

    struct MissingArtifact: Decodable, Sendable {
        var sha256: String
        var have: Int
    }

    static let marker = "PINWHEEL-RESULT "

    /// Finds the agent's answer in what the host printed, bounded (``HostReplyBounds``); nil when the agent never got to
    /// answer.
    static func parse(_ output: String) -> AgentReply? {
        guard let json = HostReplyBounds.replyLine(in: output, marker: marker) else { return nil }
        return (try? JSONDecoder().decode(AgentReply.self, from: Data(json.utf8)))?.bounded()
    }
}
