import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// A compromised host answers whatever it likes: its reply is cut to bounded size as it is decoded, before a status
/// commit, a notification, the page or a terminal sees it.
@Suite("Host reply bounds", .tags(.security))
struct HostReplyBoundsTests {
    static let hostile = "\u{1B}[2J\u{1B}]0;owned\u{07}\r\u{202E}" + String(repeating: "B", count: 1 << 18)

    static func replyLine(_ object: [String: Any]) throws -> String {
        AgentReply.marker + String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func megabyteStringsAndEndlessOutputAreCut() throws {
        let step = try JSONSerialization.jsonObject(with: JSONEncoder().encode(HostPlan.Step.prepare(.b)), options: .fragmentsAllowed)
        let slotA: [String: Any] = ["processes": [Self.hostile: [Self.hostile]], "healthy": false,
                                    "problems": Array(repeating: Self.hostile, count: 3)]
        let manifest: [String: Any] = ["fingerprint": Self.hostile, "pins": ["x==1"], "installer": Self.hostile]
        let slotB: [String: Any] = ["processes": [String: [String]](), "healthy": true, "problems": [String](), "manifest": manifest]
        let observation: [String: Any] = ["slots": ["A": slotA, "B": slotB] as [String: Any]]
        let stepResult: [String: Any] = ["step": step, "ok": false, "seconds": 1.5, "code": "install", "error": Self.hostile,
                                         "output": (0..<5000).map { "line \($0) \u{1B}[31m" }]
        let line = try Self.replyLine([
            "protocol": AgentRequest.protocolVersion, "ok": false, "code": "stepFailed", "error": Self.hostile,
            "steps": [stepResult], "observation": observation,
        ])
        // What the host printed: noise, then its reply line.
        let reply = try #require(AgentReply.parse("noise\n\(line)\n"))
        let limit = UntrustedText.hostStringLimit
        #expect((reply.error?.utf16.count ?? 0) <= limit)
        #expect(reply.error?.hasPrefix("\u{1B}[2J") == true, "the host's words are kept, bounded; escaping is for output")
        let first = try #require(reply.steps?.first)
        #expect((first.error?.utf16.count ?? 0) <= limit)
        #expect(first.output.count == UntrustedText.outputLineLimit)
        #expect(first.output.last == "line 4999 \u{1B}[31m", "the last lines, where a failure's cause is")
        let observed = try #require(reply.observation)
        #expect(observed.slots.a.problems.allSatisfy { $0.utf16.count <= limit })
        #expect(observed.slots.a.processes.keys.allSatisfy { $0.utf16.count <= limit })
        #expect(observed.slots.a.processes.values.allSatisfy { $0.allSatisfy { $0.utf16.count <= limit } })
        #expect((observed.slots.b.manifest?.fingerprint.utf16.count ?? 0) <= limit)
        #expect((observed.slots.b.manifest?.installer?.utf16.count ?? 0) <= limit)
    }

    @Test func aReplyLineOverTheLimitIsNoAnswer() throws {
        let huge = try Self.replyLine(["protocol": AgentRequest.protocolVersion, "ok": true,
                                       "error": String(repeating: "C", count: UntrustedText.replyLimit)])
        #expect(AgentReply.parse(huge) == nil)
        let check: [String: Any] = ["name": "x", "ok": false, "optional": false, "detail": Self.hostile]
        let doctor = DoctorReply.marker + String(decoding: try JSONSerialization.data(withJSONObject: [
            "protocol": 1, "ok": true, "checks": [check],
        ] as [String: Any]), as: UTF8.self)
        let parsed = try #require(DoctorReply.parse(doctor))
        #expect((parsed.checks?.first?.detail.utf16.count ?? 0) <= UntrustedText.hostStringLimit)
    }
}
