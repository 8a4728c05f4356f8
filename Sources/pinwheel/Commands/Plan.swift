import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Observe every host of an environment and say what apply would do. Changes nothing."
    )

    @OptionGroup var repository: RepositoryOptions

    @OptionGroup var localFiles: LocalFileOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let (desired, source) = try repository.environment(environment)
        let transports = try wrapUsage { try TransportFactory.transports(for: desired, source: source, trust: localFiles.trust) }
        let reconciler = EnvironmentReconciler(environment: desired, transports: transports, commit: (source as? CommitConfigSource)?.commit.hex)
        let reports = await reconciler.plan()
        let summaries = reports.map { HostSummary($0, planned: true) }
        if json {
            print(try JSON.string(summaries))
        } else {
            for summary in summaries { Terminal.print(summary.text) }
            let changes = summaries.filter { $0.outcome == "changes" }.count
            let unreachable = summaries.filter { $0.outcome == "unreachable" }.count
            print("plan: \(summaries.count) host\(summaries.count == 1 ? "" : "s") — \(summaries.count - changes - unreachable) match, \(changes) to change, \(unreachable) unreachable")
        }
        if summaries.contains(where: { $0.outcome == "unreachable" }) {
            throw ExitCode(1)
        }
    }
}
