import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Observe every host of an environment and say what apply would do. Changes nothing."
    )

    @OptionGroup var target: HostTargetOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let (desired, source) = try target.desired()
        let transports = try target.transports(for: desired, source: source)
        let reconciler = EnvironmentReconciler(environment: desired, transports: transports, commit: HostTargetOptions.commit(of: source))
        let reports = await reconciler.plan()
        let summaries = reports.map { HostSummary($0, planned: true) }
        if json {
            print(try JSON.string(summaries))
        } else {
            for summary in summaries { print(summary.text) }
            let changes = summaries.filter { $0.outcome == "changes" }.count
            let unreachable = summaries.filter { $0.outcome == "unreachable" }.count
            print("plan: \(summaries.count) host\(summaries.count == 1 ? "" : "s") — \(summaries.count - changes - unreachable) match, \(changes) to change, \(unreachable) unreachable")
        }
        if summaries.contains(where: { $0.outcome == "unreachable" }) {
            throw ExitError.failed
        }
    }
}
