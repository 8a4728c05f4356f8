import ArgumentParser
import PinwheelConfig
import PinwheelCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an environment's desired state as Pinwheel understands it.",
        discussion: """
            The active slot, the pins of each slot, the programs, and every host with its effective settings (the \
            defaults merged with its own). When a slot's `python:` names its version, the pins the slot does not \
            install on its hosts (their markers say another Python or platform) are listed apart; otherwise every \
            alternative is listed with its marker, and pip picks on the host. --json prints the same as data.

            --sbom prints a slot's software bill of materials instead (the active slot, or --slot's): a CycloneDX \
            1.5 JSON document with every package its hosts install, each with its package URL (pkg:pypi/…), the \
            hashes the slot file pins and, where Pinwheel cannot decide it, its marker; the environment, slot, \
            interpreter and (with --rev) commit as properties. The same config gives the same bytes.

            Exit status 0, 1 when the environment is not valid, 2 on a usage error.
            """
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Print the slot's software bill of materials (CycloneDX 1.5 JSON) instead.")
    var sbom = false

    @Option(help: ArgumentHelp("With --sbom, the slot to describe: A, B, active or idle (default: active).", valueName: "slot"))
    var slot: String?

    func validate() throws {
        if slot != nil, !sbom { throw ExitError.usage("--slot is for --sbom") }
        if sbom, json { throw ExitError.usage("--sbom prints JSON already; leave out --json") }
    }

    func run() throws {
        let report = try loadReport(repository, [environment])
        guard let desired = report.environments[environment], !report.hasErrors else {
            for diagnostic in report.diagnostics { print(diagnostic) }
            throw ExitError.failed
        }
        if sbom {
            let commit = (try? repository.source() as? CommitConfigSource)?.commit.hex
            let chosen = try slot.map { try HostSelection.slot($0, of: desired) } ?? desired.active
            let document = CycloneDXDocument(environment: desired, slot: chosen, commit: commit,
                                             toolVersion: BuildInfo.version)
            print(try document.json(), terminator: "")
            return
        }
        print(json ? try JSON.string(desired) : desired.summary)
    }
}
