import Foundation
import PinwheelCore

/// The host agent: `pinwheel_agent.py` (standard library only), embedded in the binary at build time and sent to
/// each host with its request, one per phase.
///
/// It runs on the host's own interpreter, so hosts need nothing installed beyond what a Python web service host
/// has. Values reach it as JSON, never through a shell. Its unit tests are in `Tests/AgentTests/`.
enum AgentScript {
    /// The agent; `main("<base64 JSON request>")` runs a request.
    static let source = String(decoding: PackageResources.pinwheel_agent_py, as: UTF8.self)

    /// The agent's source, base64.
    static let encodedSource = Data(source.utf8).base64EncodedString()

    /// Names the compiled agent cached on hosts: a new agent gets a new name.
    static let digest = ContentDigest.hex(of: source.utf8)
}
