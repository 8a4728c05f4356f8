import ArgumentParser
import PinwheelCore

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say what a commit range changes in an environment's desired state.",
        discussion: """
            In the words a reviewer reads in a pull request: `slot B: hello-service 1.0.0 → 1.1.0`, `active: A → B`, \
            `slot B python: /usr/bin/python3 → /usr/bin/python3.12`; a changed pin under a marker is named with it, \
            and said when the slot does not install it. An environment missing at one end is compared with nothing.

            Exit status 0, 1 when the environment is not valid at either commit, 2 on a usage error.
            """
    )

    @OptionGroup var repository: GitRepositoryOptions

    @Option(name: .long, help: ArgumentHelp("The commit before.", valueName: "rev"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("The commit after.", valueName: "rev"))
    var to: String = "HEAD"

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func run() throws {
        let before = try desiredState(at: from)
        let after = try desiredState(at: to)
        let changes = EnvironmentDiff.changes(from: before, to: after)
        if changes.isEmpty {
            print("\(environment): no change to the desired state")
        } else {
            for change in changes { print(change) }
        }
    }

    /// The environment at `revision`, nil when it does not exist there; an invalid config is an error.
    private func desiredState(at revision: String) throws -> Environment? {
        let options = try RepositoryOptions.parse(["--repo", repository.repo, "--rev", revision])
        let loader = ConfigLoader(source: try wrapUsage { try options.source() })
        guard try wrapUsage({ try loader.environmentNames() }).contains(environment) else { return nil }
        let report = try loadReport(options, [environment])
        guard let desired = report.environments[environment], !report.hasErrors else {
            StandardError.write("pinwheel: \(environment) is not valid at \(revision):")
            for diagnostic in report.diagnostics { print(diagnostic) }
            throw ExitError.failed
        }
        return desired
    }
}

func wrapUsage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitError {
        throw error
    } catch {
        throw ExitError.usage("\(error)")
    }
}
