import Foundation
import PinwheelCore
import PinwheelFleet

/// Turns an environment read from the config repository into the transports that reach its hosts.
enum FleetSetup {
    /// One transport per host. Known-hosts files are read from the config (on disk or at the commit) and
    /// written to a private folder, so a commit's own keys are what get checked.
    static func transports(for environment: Environment, source: any ConfigSource) throws -> [String: any Transport] {
        var transports: [String: any Transport] = [:]
        var written: [String: String] = [:]
        for host in environment.hosts {
            if host.isLocal {
                transports[host.name] = LocalTransport()
                continue
            }
            guard let knownHosts = host.settings.knownHosts else {
                throw UsageError("host \(host.name) has no knownHosts file")
            }
            let path: String
            if knownHosts.hasPrefix("/") {
                path = knownHosts
            } else if knownHosts.hasPrefix("~/") {
                path = NSString(string: knownHosts).expandingTildeInPath
            } else if let existing = written[knownHosts] {
                path = existing
            } else {
                guard let data = try source.readFile(knownHosts) else {
                    throw UsageError("\(knownHosts) does not exist")
                }
                path = try privateCopy(of: data, named: knownHosts)
                written[knownHosts] = path
            }
            transports[host.name] = SSHTransport(host: host, knownHostsFile: path)
        }
        return transports
    }

    private static func privateCopy(of data: Data, named name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-\(getpid())-known-hosts")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = directory.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_"))
        try data.write(to: file)
        return file.path
    }
}

extension RepositoryOptions {
    /// The valid environment `name` with the source it was read from; prints the errors and exits 1 when invalid.
    func environment(_ name: String) throws -> (Environment, any ConfigSource) {
        let source = try wrapUsage { try self.source() }
        let report = try loadReport(self, [name])
        guard let environment = report.environments[name], !report.hasErrors else {
            for diagnostic in report.diagnostics { print(diagnostic) }
            StandardError.write("pinwheel: \(name) is not valid; nothing was done")
            throw ExitCodeError.invalid
        }
        return (environment, source)
    }
}

/// Exit statuses with a meaning.
enum ExitCodeError: Error {
    /// The config is invalid, or not every host converged.
    case invalid
}
