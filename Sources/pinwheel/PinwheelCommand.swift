import ArgumentParser
import CMalloc
import Foundation

/// The `pinwheel` command: GitOps for fleets of Linux hosts running Python web services.
struct PinwheelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pinwheel",
        abstract: "Make fleets of Linux hosts run what a git repository says.",
        discussion: """
            A config repository holds Environments/<name>/ (two slots of exact pins, the active slot, programs, \
            hosts) and Policies/<name>.yaml (rollout rules). Each command's help (`pinwheel help COMMAND`, or \
            `man pinwheel-COMMAND`) says all it does. Exit status, the same for every command: 0 success, 1 the \
            config is invalid or the operation failed, 2 usage error or unreadable repository.
            """,
        version: BuildInfo.description,
        subcommands: [Validate.self, Show.self, Diff.self, Plan.self, Apply.self, Watch.self, Status.self, Release.self,
                      Rollback.self, Promote.self, History.self, Logs.self, Exec.self, Doctor.self, Init.self]
    )
}

@main
enum Main {
    static func main() async {
        // Before any thread allocates: one allocator arena for the whole process (see the function).
        pw_heap_use_one_arena()
        do {
            var command = try PinwheelCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let exit = ExitError.thrown(in: error) {
                if var line = exit.line {
                    // A mistake found by a command's `validate()`: its usage line too, as for a mistake in parsing.
                    if exit.code == 2, let command = ExitError.command(in: error) {
                        line += "\nUsage: \(PinwheelCommand.usageString(for: command))\n"
                            + "  See 'pinwheel help \(command._commandName)' for more information."
                    }
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
                Foundation.exit(exit.code)
            }
            if PinwheelCommand.exitCode(for: error) == .validationFailure {
                // A mistake in parsing (an unknown option, a missing argument) exits with 2, the convention of most Unix
                // tools, so scripts can tell "you called it wrong" from "the config is invalid" (1); said like every
                // other usage error.
                var message = PinwheelCommand.fullMessage(for: error)
                if message.hasPrefix("Error: ") { message = "pinwheel: error: " + message.dropFirst("Error: ".count) }
                FileHandle.standardError.write(Data((message + "\n").utf8))
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
