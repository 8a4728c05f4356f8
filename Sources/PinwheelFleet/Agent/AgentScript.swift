import Foundation
import PinwheelCore

/// The host agent: small Python modules (standard library only, `agent_*.py` and `pinwheel_agent.py`), embedded in
/// the binary at build time and sent to each host as one program text with its request, one per phase.
///
/// One text, so a host runs the agent as one process that imports nothing from disk and compiles (and keeps) it
/// once: the modules are joined in ``modules``' order, each after the modules it imports, with their imports of each
/// other (`from agent_x import a, b`, one line each) left out, since in one namespace those names are already
/// defined. `Tests/AgentTests/payload.py` joins them the same way for the agent's unit tests, which import each
/// module on its own too; a test checks both give the same text and that this order is `PAYLOAD_MODULES` in
/// `pinwheel_agent.py`.
///
/// It runs on the host's own interpreter, so hosts need nothing installed beyond what a Python web service host
/// has. Values reach it as JSON, never through a shell. Its unit tests are in `Tests/AgentTests/`.
enum AgentScript {
    /// The agent's modules, by name, in the order they are joined.
    static let modules: [(name: String, text: [UInt8])] = [
        ("agent_wire", PackageResources.agent_wire_py),
        ("agent_system", PackageResources.agent_system_py),
        ("agent_commands", PackageResources.agent_commands_py),
        ("agent_request", PackageResources.agent_request_py),
        ("agent_deployment", PackageResources.agent_deployment_py),
        ("agent_artifacts", PackageResources.agent_artifacts_py),
        ("agent_supervisor", PackageResources.agent_supervisor_py),
        ("agent_programs", PackageResources.agent_programs_py),
        ("agent_hooks", PackageResources.agent_hooks_py),
        ("agent_logs", PackageResources.agent_logs_py),
        ("agent_routing", PackageResources.agent_routing_py),
        ("agent_health", PackageResources.agent_health_py),
        ("agent_bytecode", PackageResources.agent_bytecode_py),
        ("agent_building", PackageResources.agent_building_py),
        ("agent_lock", PackageResources.agent_lock_py),
        ("pinwheel_agent", PackageResources.pinwheel_agent_py),
    ]

    /// The agent as hosts run it; `main("<base64 JSON request>")` runs a request.
    static let source = joined(modules.map { String(decoding: $0.text, as: UTF8.self) })

    /// The agent's source, base64.
    static let encodedSource = Data(source.utf8).base64EncodedString()

    /// Names the compiled agent cached on hosts: a new agent gets a new name.
    static let digest = ContentDigest.hex(of: source.utf8)

    /// The modules' texts joined in order, each without its lines that import another agent module.
    static func joined(_ texts: [String]) -> String {
        texts.map { text in
            text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !isSiblingImport($0) }
                .joined(separator: "\n")
        }.joined()
    }

    /// Whether a line is a top-level import of another agent module (`from agent_x import a, b`).
    static func isSiblingImport(_ line: Substring) -> Bool {
        line.hasPrefix("from agent_") && line.contains(" import ")
    }
}
