import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The programs' output from every host at once, each line prefixed with its host (and process).",
        discussion: """
            The programs' supervisord logs from every host at once, over the same SSH transport as apply, each line \
            prefixed with its host, and with the process (`web-01 hello-web-A_8100 | …`) when there is more than one \
            log. By default every program of both slots, the last 100 lines of each; --program, --slot and --host \
            narrow it. With -f it follows until Ctrl-C; a host that goes away is reported (`web-02: … following the \
            other hosts`) and the others are followed on.

            Exit status 0, 1 when a host could not be read, 2 on a usage error.
            """
    )

    @OptionGroup var target: HostCommandOptions

    @Option(help: ArgumentHelp("Only this program.", valueName: "name"))
    var program: String?

    @Option(help: ArgumentHelp("A, B, active or idle (default: both slots).", valueName: "slot"))
    var slot: String?

    @Option(name: .short, help: ArgumentHelp("Lines of each log to show first.", valueName: "lines"))
    var n = 100

    @Flag(name: .shortAndLong, help: "Follow the logs until interrupted.")
    var follow = false

    func validate() throws {
        guard (0...100_000).contains(n) else { throw ExitError.usage("-n is 0 to 100000") }
    }

    func run() async throws {
        let (desired, agents) = try target.agents()
        let slots = try slot.map { [try HostSelection.slot($0, of: desired)] } ?? Slot.allCases
        let programs = try program.map { [try HostSelection.program($0, of: desired)] } ?? desired.programs
        // Name the process only when there is more than one log to tell apart.
        let logCount = programs.reduce(0) { $0 + $1.processes } * slots.count
        let printer = LinePrinter()
        let lines = n
        let follow = self.follow
        let names = program.map { [$0] } ?? []
        let failed = await withTaskGroup(of: Bool.self) { group in
            for agent in agents {
                let host = agent.host
                group.addTask {
                    do {
                        try await agent.logs(slots: slots, programs: names, lines: lines, follow: follow) { line in
                            printer.out(logCount > 1 ? "\(host.name) \(line.process) | \(line.text)" : "\(host.name) | \(line.text)")
                        }
                        if follow { printer.error("\(host.name): the log stream ended; following the other hosts") }
                        return false
                    } catch {
                        let message = (error as? FleetError)?.message ?? "\(error)"
                        printer.error(follow ? "\(message); following the other hosts" : message)
                        return true
                    }
                }
            }
            return await group.reduce(false) { $0 || $1 }
        }
        if failed { throw ExitError.failed }
    }
}
