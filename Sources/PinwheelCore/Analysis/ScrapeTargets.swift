import Foundation

/// Prometheus HTTP service discovery (`http_sd_configs`) for the apps Pinwheel runs: every process of every web
/// program of both slots on every host, with the labels the analysis queries select on, so Prometheus scrapes the
/// release and the stable slot apart with no hand-kept target list.
///
/// How Prometheus reaches the apps: each process at the host's `address` and the process's own port (the slot's
/// port plus its index), at `/metrics`. The apps must therefore listen where Prometheus can connect — the host's
/// private address, not only loopback behind nginx — or Prometheus runs on each host. A host with `address: local`
/// is this machine, 127.0.0.1.
public enum ScrapeTargets {
    /// One target group of the discovery answer: `[{"targets": ["10.0.0.5:8200"], "labels": {…}}]`.
    public struct Group: Sendable, Hashable, Codable {
        public var targets: [String]
        public var labels: [String: String]

        public init(targets: [String], labels: [String: String]) {
            self.targets = targets
            self.labels = labels
        }
    }

    /// The label names, as the analysis queries use them.
    public enum Label {
        public static let environment = "environment"
        public static let host = "host"
        public static let slot = "slot"
        public static let program = "program"
        public static let version = "version"
        public static let commit = "commit"
        /// `true` when nginx sends the host's traffic to this slot.
        public static let routed = "routed"
    }

    /// The groups of one environment: one per host, program and slot.
    /// - Parameters:
    ///   - environment: the environment as last applied (its hosts, programs and ports).
    ///   - commit: the commit it was applied at.
    ///   - status: the controller's last status, for what each host serves and which pins each slot has; without
    ///     it, the versions are the desired ones and nothing is routed.
    public static func groups(of environment: Environment, commit: String, status: EnvironmentStatus?) -> [Group] {
        var groups: [Group] = []
        for host in environment.hosts {
            let reported = status?.hosts[host.name]
            for program in environment.programs where program.isWeb {
                for slot in Slot.allCases {
                    let ports = host.processPorts(of: program, in: slot)
                    guard !ports.isEmpty else { continue }
                    let pins = reported?.slots[slot.rawValue] ?? environment.slots[slot].pins.map(\.description)
                    let labels = [
                        Label.environment: environment.name,
                        Label.host: host.name,
                        Label.slot: slot.rawValue,
                        Label.program: program.name,
                        Label.version: version(in: pins, app: environment.app),
                        Label.commit: commit,
                        Label.routed: reported?.serving == slot ? "true" : "false",
                        "__metrics_path__": "/metrics",
                    ]
                    groups.append(Group(targets: ports.map { address(of: host, port: $0) }, labels: labels))
                }
            }
        }
        return groups
    }

    /// The version of the slot's main package: the pin named like the app, else the first whose name starts with
    /// it (`hello-service` for the app `hello`), else the first pin.
    public static func version(in pins: [String], app: String) -> String {
        let split = pins.compactMap { pin -> (name: String, version: String)? in
            guard let range = pin.range(of: "==") else { return nil }
            return (Pin.normalize(String(pin[..<range.lowerBound])), String(pin[range.upperBound...]).split(separator: ";").first.map(String.init) ?? "")
        }
        let app = Pin.normalize(app)
        let main = split.first { $0.name == app } ?? split.first { $0.name.hasPrefix(app + "-") } ?? split.first
        return main?.version.trimmingCharacters(in: .whitespaces) ?? ""
    }

    static func address(of host: FleetHost, port: Int) -> String {
        let address = host.isLocal ? "127.0.0.1" : host.address
        return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
