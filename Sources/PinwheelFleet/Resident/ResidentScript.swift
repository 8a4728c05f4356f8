import Foundation
import Synchronization

/// The resident agent loop (`pinwheel_resident.py`), embedded like the agent: run on the host with `-c`, so its
/// standard input carries frames from the first byte, it receives the agent's source once and answers one framed
/// request after another.
enum ResidentScript {
    static let source = String(decoding: PackageResources.pinwheel_resident_py, as: UTF8.self)

    /// The agent's source as the loop's first frame.
    static let agentFrame = AgentFrame.encode(Array(AgentScript.source.utf8))

    /// The remote command (it passes through the login shell: every word is quoted). `-I -S`, as for a one-shot agent:
    /// neither the environment nor site-packages can change what runs.
    ///
    /// Made once per interpreter and shared: every open session's ssh client keeps its command line for as long as it
    /// runs, and a controller holds a hundred sessions and more of one interpreter (4 KB each when each had its own).
    static func command(python: String) -> String {
        commands.withLock { made in
            if let command = made[python] { return command }
            let command = "exec \(SSHTransport.quote(python)) -I -S -c \(SSHTransport.quote(source))"
            // An environment names its interpreter; a handful at most. Beyond that, nothing more is kept.
            if made.count < 16 { made[python] = command }
            return command
        }
    }

    private static let commands = Mutex<[String: String]>([:])
}
