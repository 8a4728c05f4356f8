import PinwheelCore
import PinwheelGit

/// The message of a commit that reverts another: git's own form (`Revert "<summary>"`, then
/// `This reverts commit <sha>.`), which `pinwheel rollback` and the controller both write, so that
/// people and tools read every revert the same way.
///
/// When the controller reverts a release whose rollout it halted, the message also says why, lists the
/// hosts that failed (each with Pinwheel's diagnosis: the step, its code, the message; never the program's output,
/// which this commit would keep in the main branch's history for good), and ends with the `Pinwheel-Environment:` and `Pinwheel-Reverts:` trailers.
public struct RevertMessage: Sendable, Hashable {
    /// The summary (first line) of the reverted commit.
    public var summary: String
    /// The reverted commit.
    public var reverted: ObjectID
    /// Why the controller reverted it, when it did.
    public var halt: Halt?

    /// The controller's reason for reverting a release.
    public struct Halt: Sendable, Hashable {
        public var environment: String
        /// Why the rollout was halted, one line.
        public var reason: String
        /// Each failed host's failure, by host name.
        public var failures: [String: HostFailure]

        public init(environment: String, reason: String, failures: [String: HostFailure]) {
            self.environment = environment
            self.reason = reason
            self.failures = failures
        }
    }

    public init(reverting commit: CommitInfo, halt: Halt? = nil) {
        self.init(summary: commit.summary, reverted: commit.id, halt: halt)
    }

    public init(summary: String, reverted: ObjectID, halt: Halt? = nil) {
        self.summary = summary
        self.reverted = reverted
        self.halt = halt
    }

    /// The message of a revert made because the controller halted `environment`'s rollout.
    public static func haltedRollout(reverting commit: CommitInfo, environment: String, reason: String,
                                     failures: [String: HostFailure]) -> RevertMessage {
        RevertMessage(reverting: commit, halt: Halt(environment: environment, reason: reason, failures: failures))
    }

    /// The full message, ending with a newline.
    public var text: String {
        var text = "Revert \"\(summary)\"\n\nThis reverts commit \(reverted.hex).\n"
        guard let halt else { return text }
        // Each failed host on one line: the step, the code, the diagnosis (escaped: one line whatever it holds).
        let failures = halt.failures.keys.sorted().map { host in
            "- \(host): " + (halt.failures[host].map { HostText.bounded($0.description, limit: HostText.messageLimit) } ?? "")
        }
        text += "\nPinwheel halted the rollout of \(halt.environment) and reverted it: \(halt.reason)\n"
        text += failures.joined(separator: "\n") + "\n"
        text += "\nPinwheel-Environment: \(halt.environment)\nPinwheel-Reverts: \(reverted.hex)\n"
        return text
    }
}
