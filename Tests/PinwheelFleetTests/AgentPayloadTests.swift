import Foundation
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// The agent hosts run is the agent its unit tests run: ``AgentScript`` joins the embedded modules in the order
/// `pinwheel_agent.py` declares (`PAYLOAD_MODULES`) into the very text `Tests/AgentTests/payload.py` gives those
/// tests, and that text runs as one namespace in a fresh `python3 -I -S`, importing no agent module from disk.
@Suite("the agent's modules joined into one payload")
struct AgentPayloadTests {
    static let payloadScript = Shell.packageRoot.appendingPathComponent("Tests/AgentTests/payload.py").path

    @Test func theSwiftOrderIsTheAgentsOwn() async throws {
        let program = """
            import json, sys
            agent = {"__name__": "pinwheel_agent"}
            exec(compile(sys.stdin.read(), "pinwheel_agent.py", "exec"), agent)
            print(json.dumps(list(agent["PAYLOAD_MODULES"])))
            """
        let output = try await Shell.run("python3", ["-I", "-S", "-B", "-c", program], input: AgentScript.source)
        try #require(output.status == 0, "the payload does not run on its own: \(output.standardError)")
        let order = try JSONDecoder().decode([String].self, from: Data(output.standardOutput.utf8))
        #expect(order == AgentScript.modules.map(\.name))
        #expect(Set(order).count == order.count)
    }

    @Test func swiftJoinsTheModulesAsTheAgentTestsDo() async throws {
        let output = try await Shell.run("python3", ["-B", Self.payloadScript])
        try #require(output.status == 0, "payload.py failed: \(output.standardError)")
        #expect(output.standardOutput == AgentScript.source)
        #expect(!AgentScript.source.contains("\nfrom agent_"), "no module imports another inside the payload")
    }

    @Test func joiningLeavesOutOnlyTheImportsOfOtherAgentModules() {
        let first = "\"\"\"one\"\"\"\nimport os\n\nfrom agent_wire import StepFailed, json_dumps\nA = 1\n"
        let second = "from agent_one import A\nfrom os import path\n    from agent_x import y\nB = A  # from agent_one\n"
        #expect(AgentScript.joined([first, second])
            == "\"\"\"one\"\"\"\nimport os\n\nA = 1\nfrom os import path\n    from agent_x import y\nB = A  # from agent_one\n")
    }
}
