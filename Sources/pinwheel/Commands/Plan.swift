import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Observe every host of an environment and say what apply would do. Changes nothing.",
        discussion: """
            Observes every host of the environment (one SSH round trip each, all at once) and prints, per host, what \
            it serves and what apply would do there: `matches`, or the steps it needs (prepare B, switch to B, …). \
            Changes nothing on any host, and runs no configured command there (supervisord is read through its \
            socket or a fixed status command; nginx's commands run only when something changes), so CI may run it \
            on any pull request. --json prints each host's observation and plan as data.

            Exit status 0 when every host was observed, 1 when a host is unreachable or the config is not valid, 2 \
            on a usage error.
            """
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
            for summary in summaries { Terminal.print(summary.text) }
            let changes = summaries.filter { $0.outcome == "changes" }.count
            let unreachable = summaries.filter { $0.outcome == "unreachable" }.count
            print("plan: \(summaries.count) host\(summaries.count == 1 ? "" : "s") — \(summaries.count - changes - unreachable) match, \(changes) to change, \(unreachable) unreachable")
        }
        if summaries.contains(where: { $0.outcome == "unreachable" }) {
            throw ExitError.failed
        }
    }
}
