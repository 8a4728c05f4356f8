import ArgumentParser
import Foundation

/// The `pinwheel` command: GitOps for fleets of Linux hosts running Python web services.
struct PinwheelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pinwheel",
        abstract: "Make fleets of Linux hosts run what a git repository says.",
        discussion: """
            A config repository holds Environments/<name>/ (two slots of exact pins, the active slot, programs, \
            hosts) and Policies/<name>.yaml (rollout rules). Exit status: 0 success, 1 the config is invalid \
            or the operation failed, 2 usage error or unreadable repository.
            """,
        version: BuildInfo.description,
        subcommands: [Validate.self, Show.self, Diff.self, Plan.self, Apply.self, Watch.self, Status.self, Release.self,
                      Rollback.self, Promote.self, History.self, Logs.self, Exec.self, Doctor.self, Init.self]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try PinwheelCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch ExitCodeError.invalid {
            Foundation.exit(1)
        } catch let error as UsageError {
            StandardError.write("pinwheel: error: \(error.message)")
            Foundation.exit(2)
        } catch {
            if PinwheelCommand.exitCode(for: error) == .validationFailure {
                // Argument errors exit with 2, the convention of most Unix tools, so scripts can tell
                // "you called it wrong" from "the config is invalid" (1).
                FileHandle.standardError.write(Data((PinwheelCommand.fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            if PinwheelCommand.exitCode(for: error) == .failure {
                // Errors often quote a host or a commit: printed with control characters shown, not obeyed.
                let message = PinwheelCommand.fullMessage(for: error)
                if !message.isEmpty { StandardError.write(message) }
                Foundation.exit(1)
            }
            PinwheelCommand.exit(withError: error)
        }
    }
}

/// A mistake in how the command was called, or a repository it cannot read: exit status 2.
struct UsageError: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
