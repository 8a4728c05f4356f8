import Foundation
import PinwheelCore

extension RepositoryOptions {
    /// The valid environment `name` with the source it was read from; prints the errors and exits 1 when invalid.
    func environment(_ name: String) throws -> (Environment, any ConfigSource) {
        let source = try wrapUsage { try self.source() }
        let report = try loadReport(self, [name])
        guard let environment = report.environments[name], !report.hasErrors else {
            for diagnostic in report.diagnostics { print(diagnostic) }
            throw ExitError.failed("\(name) is not valid; nothing was done")
        }
        return (environment, source)
    }
}
