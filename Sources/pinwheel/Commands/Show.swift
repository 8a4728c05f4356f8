import ArgumentParser
import PinwheelCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an environment's desired state as Pinwheel understands it.",
        discussion: """
            The active slot, the pins of each slot, the programs, and every host with its effective settings (the \
            defaults merged with its own). When a slot's `python:` names its version, the pins the slot does not \
            install on its hosts (their markers say another Python or platform) are listed apart; otherwise every \
            alternative is listed with its marker, and pip picks on the host. --json prints the same as data.

            Exit status 0, 1 when the environment is not valid, 2 on a usage error.
            """
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let report = try loadReport(repository, [environment])
        guard let desired = report.environments[environment], !report.hasErrors else {
            for diagnostic in report.diagnostics { print(diagnostic) }
            throw ExitError.failed
        }
        print(json ? try JSON.string(desired) : desired.summary)
    }
}
