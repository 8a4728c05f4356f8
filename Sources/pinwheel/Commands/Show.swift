import ArgumentParser
import PinwheelCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an environment's desired state as Pinwheel understands it.",
        discussion: "The active slot, the pins of each slot, programs, and every host with its effective settings."
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
