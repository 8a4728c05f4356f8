import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// The agent's failure codes and Swift's ``FailureCode`` are one vocabulary: the agent's tables (`STEP_CODES`,
/// `REPLY_CODES`, in `agent_wire.py`), printed by python3 from the very payload the binary sends (its modules
/// joined), match the enum's cases one to one.
/// (The agent's own tests check that every code it sends is in its tables.)
@Suite("the agent's failure codes and Swift's agree")
struct FailureCodeContractTests {
    struct Tables: Decodable {
        var step: [String]
        var reply: [String]
    }

    static func agentTables() async throws -> Tables {
        let program = """
            import json, sys
            agent = {"__name__": "pinwheel_agent"}
            exec(compile(sys.stdin.read(), "pinwheel_agent.py", "exec"), agent)
            print(json.dumps({"step": list(agent["STEP_CODES"]), "reply": list(agent["REPLY_CODES"])}))
            """
        let output = try await Shell.run("python3", ["-I", "-S", "-B", "-c", program], input: AgentScript.source)
        try #require(output.status == 0, "python3 could not read the agent's tables: \(output.standardError)")
        return try JSONDecoder().decode(Tables.self, from: Data(output.standardOutput.utf8))
    }

    @Test func theAgentsStepCodesAreTheEnumsStepCodes() async throws {
        let tables = try await Self.agentTables()
        #expect(tables.step == FailureCode.agentStepCodes.map(\.rawValue))
        for code in tables.step {
            #expect(FailureCode(code) != .unknown(code), "\(code) decodes to a known case")
        }
    }

    @Test func theAgentsReplyCodesAreKnown() async throws {
        let tables = try await Self.agentTables()
        #expect(tables.reply == FailureCode.agentReplyCodes)
        // Every reply code but `stepFailed` (whose step says why) is a failure of its own.
        for code in tables.reply where code != "stepFailed" {
            if case .unknown = FailureCode(code) { Issue.record("\(code) has no FailureCode") }
        }
    }

    @Test func anUnknownCodeIsKeptBoundedAndEscaped() {
        let hostile = "\u{1B}[31mevil" + String(repeating: "x", count: 500)
        guard case let .unknown(raw) = FailureCode(hostile) else {
            Issue.record("an unknown code decodes to .unknown")
            return
        }
        #expect(raw.count == FailureCode.unknownLimit)
        #expect(!raw.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(raw.hasPrefix("\\u{1B}[31mevil"))
        // It reads back from a status file as the same unknown code, never a crash.
        let decoded = try? JSONDecoder().decode(FailureCode.self, from: JSONEncoder().encode(FailureCode(hostile)))
        #expect(decoded == FailureCode(hostile))
    }
}
