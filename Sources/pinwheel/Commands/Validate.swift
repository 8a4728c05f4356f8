import ArgumentParser
import PinwheelCore

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check environments and the policies they use; report every error as path:line:column.",
        discussion: "Exit status 0 when valid, 1 when not, 2 on a usage error."
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("Environments to check (all when none are named).", valueName: "env"))
    var environments: [String] = []

    func run() throws {
        let report = try loadReport(repository, environments)
        for diagnostic in report.diagnostics {
            print(diagnostic)
        }
        let errors = report.diagnostics.filter { $0.severity == .error }.count
        if errors > 0 {
            StandardError.write("pinwheel: \(errors) error\(errors == 1 ? "" : "s") found")
            throw ExitCode(1)
        }
        let names = report.environments.keys.sorted()
        let policies = report.policies.keys.sorted()
        print("ok: \(names.count) environment\(names.count == 1 ? "" : "s") (\(names.joined(separator: ", "))), "
              + "\(policies.count) polic\(policies.count == 1 ? "y" : "ies") (\(policies.joined(separator: ", ")))")
    }
}

/// Loads the config, turning "no such environment" and unreadable repositories into usage errors.
func loadReport(_ options: RepositoryOptions, _ names: [String]) throws -> ConfigReport {
    do {
        let loader = ConfigLoader(source: try options.source())
        if options.rev == nil, (try? loader.environmentNames())?.isEmpty == true, (try? options.source().entries(of: ConfigLoader.environmentsFolder)) == nil {
            throw UsageError("\(options.repo) has no Environments/ folder: is --repo the config repository?")
        }
        return try loader.load(names)
    } catch let error as ConfigLoader.UnknownEnvironment {
        throw UsageError(error.description)
    } catch let error as UsageError {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        throw UsageError("cannot read the config repository: \(error)")
    }
}
