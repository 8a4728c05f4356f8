import Foundation
import PinwheelCore

/// Turns an environment read from the config repository into the transports that reach its hosts.
public enum TransportFactory {
    /// One transport per host. Known-hosts files are read from the config (on disk or at the commit) and
    /// written to a private folder once per content (`KnownHostsFiles`), so a commit's own keys are what get checked.
    public static func transports(for environment: Environment, source: any ConfigSource,
                                  controlDirectory: String = SSHTransport.defaultControlDirectory) throws -> [String: any Transport] {
        var transports: [String: any Transport] = [:]
        var written: [String: String] = [:]
        for host in environment.hosts {
            if host.isLocal {
                transports[host.name] = LocalTransport()
                continue
            }
            guard let knownHosts = host.settings.knownHosts else {
                throw FleetError(.hostKey, "host \(host.name) has no knownHosts file")
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
                    throw FleetError(.hostKey, "\(knownHosts) does not exist")
                }
                path = try KnownHostsFiles.path(for: data, in: controlDirectory)
                written[knownHosts] = path
            }
            transports[host.name] = SSHTransport(host: host, knownHostsFile: path, controlDirectory: controlDirectory)
        }
        return transports
    }
}
