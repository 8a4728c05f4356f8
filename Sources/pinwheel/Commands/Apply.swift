import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make every host of an environment match it now.",
        discussion: """
            Prepares the active slot where it is missing and switches hosts to it (a host whose new slot fails its \
            health check keeps serving the old one), then prepares idle slots. Exit status 0 when every host \
            converged, 1 when any failed or was unreachable.
            """
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .shortAndLong, help: "Do not print progress while it runs.")
    var quiet = false

    func run() async throws {
        let (desired, source) = try repository.environment(environment)
        let transports = try wrapUsage { try TransportFactory.transports(for: desired, source: source) }
        let started = ContinuousClock.now
        let quiet = self.quiet || json
        if !quiet {
            StandardError.write("apply \(environment): active slot \(desired.active), \(desired.hosts.count) host\(desired.hosts.count == 1 ? "" : "s")")
        }
        let reconciler = FleetReconciler(environment: desired, transports: transports, commit: (source as? CommitConfigSource)?.commit.hex) { event in
            if !quiet { ProgressPrinter.event(event) }
        }
        let reports = await reconciler.apply()
        let summaries = reports.map { HostSummary($0, planned: false) }
        if json {
            print(try JSON.string(summaries))
        } else {
            for summary in summaries { print(summary.text) }
            let count = { (outcome: HostReport.Outcome) in reports.filter { $0.outcome == outcome }.count }
            let elapsed = ContinuousClock.now - started
            print(String(format: "apply: %d host%@ in %.1fs — %d converged, %d changed, %d failed, %d unreachable",
                         reports.count, reports.count == 1 ? "" : "s",
                         elapsed.inSeconds,
                         count(.converged), count(.changed), count(.failed), count(.unreachable)))
        }
        if reports.contains(where: { $0.outcome == .failed || $0.outcome == .unreachable }) {
            throw ExitCode(1)
        }
    }
}
