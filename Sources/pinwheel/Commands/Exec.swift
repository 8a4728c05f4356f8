import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command in a slot's venv, as its program runs, on the environment's hosts.",
        discussion: """
            Runs a command in the slot's venv (its bin/ first, so `django-admin`, `python`, `flask` are the slot's) \
            as the program runs: with its environment, envFile, user and directory. Every selected host by default, \
            in parallel; --one for the first only. The words after `--` reach the host as they are: never through a \
            shell on either side. Output streams back with host prefixes (none with one host), then each host's exit \
            status: `exec: 3 hosts — 2 exited 0, web-02 exited 3`.

            With --one on a terminal the command is interactive: it gets a terminal on the host (ssh -tt) and this \
            one's input, so `pinwheel exec production --one -- python manage.py shell` is a Django shell in the \
            active slot; otherwise its standard input is closed. Example: `pinwheel exec production --one -- \
            django-admin migrate --plan`.

            Exit status 0 when every host's command exited 0, 1 otherwise, and with --one the command's own exit \
            status; 2 on a usage error.
            """
    )

    @OptionGroup var target: HostCommandOptions

    @Flag(help: "Only the first host (of those selected): for a command to run once, such as a migration plan.")
    var one = false

    @Option(help: ArgumentHelp("A, B, active or idle.", valueName: "slot"))
    var slot = "active"

    @Option(help: ArgumentHelp("The program whose environment the command gets (default: the first web program).", valueName: "name"))
    var program: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after `--`.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ExitError.usage("give the command after `--`, e.g. pinwheel exec production --one -- django-admin migrate --plan") }
    }

    func run() async throws {
        let (desired, agents) = try target.agents(limit: one ? 1 : nil)
        let slot = try HostSelection.slot(self.slot, of: desired)
        let programName = program ?? (desired.programs.first { $0.isWeb } ?? desired.programs.first)?.name
        if let program { _ = try HostSelection.program(program, of: desired) }
        if one, isatty(STDIN_FILENO) == 1, let agent = agents.first {
            // One host and a person at the terminal: the command is theirs to talk to.
            do {
                throw ExitError.status(try await agent.execInteractive(slot: slot, program: programName, argv: command))
            } catch let error as FleetError {
                StandardError.write(error.message)
                throw ExitError.failed
            }
        }
        let printer = LinePrinter()
        let prefixed = agents.count > 1
        let argv = command
        struct Finished: Sendable {
            var host: String
            var status: Int32?
            var error: String?
        }
        let results = await withTaskGroup(of: Finished.self) { group in
            for agent in agents {
                let host = agent.host
                group.addTask {
                    do {
                        let status = try await agent.exec(slot: slot, program: programName, argv: argv) { line in
                            let text = prefixed ? "\(host.name) | \(line.text)" : line.text
                            line.isError ? printer.error(text) : printer.out(text)
                        }
                        return Finished(host: host.name, status: status)
                    } catch {
                        return Finished(host: host.name, error: (error as? FleetError)?.message ?? "\(error)")
                    }
                }
            }
            var all: [Finished] = []
            for await finished in group { all.append(finished) }
            return all.sorted { $0.host < $1.host }
        }
        for failure in results where failure.error != nil {
            printer.error("\(failure.host): \(failure.error ?? "")")
        }
        if one, let only = results.first, results.count == 1 {
            if let status = only.status { throw ExitError.status(status) }
            throw ExitError.failed
        }
        let ok = results.filter { $0.status == 0 }
        let failed = results.filter { $0.status != 0 }
        var summary = "exec: \(results.count) host\(results.count == 1 ? "" : "s") — \(ok.count) exited 0"
        if !failed.isEmpty {
            summary += ", " + failed.map { "\($0.host) \($0.status.map { "exited \($0)" } ?? "failed")" }.joined(separator: ", ")
        }
        printer.error(summary)
        if !failed.isEmpty { throw ExitError.failed }
    }
}
