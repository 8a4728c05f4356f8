import Foundation
import PinwheelCore

/// Turns an environment read from the config repository into the transports that reach its hosts.
public enum TransportFactory {
    /// One transport per host. Known-hosts files are read from the config (on disk or at the commit) and
    /// written to a private folder once per content (`KnownHostsFiles`), so a commit's own keys are what get checked.
    ///
    /// Files on this machine that the config names — private keys (`identity`) and absolute or `~/` known-hosts
    /// files — are used only inside the folders `trust` allows (compared by real path); anything else throws
    /// ``FleetError/Code/untrustedLocalFile`` naming the host, the path and the flag, before any host is reached.
    /// A host with `address: local` throws the same code unless `trust.allowsLocalHosts` (the operator's
    /// `--allow-local-hosts`): it would run on this machine.
    /// `multiplexed: false` makes every round trip a new connection (see ``SSHTransport/multiplexed``).
    public static func transports(for environment: Environment, source: any ConfigSource,
                                  controlDirectory: String = SSHTransport.defaultControlDirectory,
                                  trust: LocalFileTrust, multiplexed: Bool = true) throws -> [String: any Transport] {
        var transports: [String: any Transport] = [:]
        var written: [String: String] = [:]
        for var host in environment.hosts {
            if host.isLocal {
                try trust.localHost(host.name)
                transports[host.name] = LocalTransport()
                continue
            }
            guard let knownHosts = host.settings.knownHosts else {
                throw FleetError(.hostKey, "host \(host.name) has no knownHosts file")
            }
            if let identity = host.settings.identity {
                host.settings.identity = try trust.identity(identity, host: host.name)
            }
            let path: String
            if knownHosts.hasPrefix("/") || knownHosts.hasPrefix("~") {
                path = try trust.knownHosts(knownHosts, host: host.name)
            } else if let existing = written[knownHosts] {
                path = existing
            } else {
                guard let data = try source.readFile(knownHosts) else {
                    throw FleetError(.hostKey, "\(knownHosts) does not exist")
                }
                path = try KnownHostsFiles.path(for: data, in: controlDirectory)
                written[knownHosts] = path
            }
            transports[host.name] = SSHTransport(host: host, knownHostsFile: path, controlDirectory: controlDirectory,
                                                 multiplexed: multiplexed)
        }
        return transports
    }
}
