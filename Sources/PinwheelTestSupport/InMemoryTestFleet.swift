import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

/// ``TestFleet``'s counterpart in memory: a config folder whose `Environments/fleet/` describes `hosts` in-memory
/// hosts (`web-01`…), and the ``InMemoryFleet`` that answers for them. Its config is a ``TestConfigFolder`` as
/// ``TestFleet``'s is, so a controller test moves from one to the other by changing how it reads the hosts.
/// `hello-service==9.9.9` fails its health check, as the sample service's does on a real fleet.
public final class InMemoryTestFleet: TestConfigFolder, @unchecked Sendable {
    private let folder: TemporaryFolder
    public let hosts: Int
    /// What the controller reaches the hosts through (`Controller(…, agents: fleet.agents)`).
    public let agents = InMemoryFleet()
    /// The config repository (a plain folder): `Environments/fleet/` and `Policies/local.yaml`.
    public let config: String
    public let environmentName = "fleet"

    public var directory: String { folder.path }

    public init(hosts: Int = 3) throws {
        folder = try TemporaryFolder("memory-fleet")
        self.hosts = hosts
        config = folder.path("config")
        try write("Environments/\(environmentName)/environment.yaml",
                  InMemoryFleet.environmentFile(hosts: (0..<hosts).map(name)))
        try write("Policies/local.yaml", Self.defaultPolicy)
        try setPins(.a, "hello-service==1.0.0")
        try setPins(.b, "hello-service==1.0.0")
        // As the sample service's 9.9.9 on a real fleet: it installs, starts, and never answers its health check.
        agents.fail("check", code: .health, whenPinned: "hello-service==9.9.9",
                    message: "the slot failed its health check after 40 attempts: /healthz answered 500, expected 200")
    }

    // MARK: The config

    /// Another environment, `name`, of in-memory hosts `hosts`, serving 1.0.0 from both slots.
    public func addEnvironment(_ name: String, hosts: [String]) throws {
        try write("Environments/\(name)/environment.yaml", InMemoryFleet.environmentFile(hosts: hosts))
        try write("Environments/\(name)/A.txt", "hello-service==1.0.0\n")
        try write("Environments/\(name)/B.txt", "hello-service==1.0.0\n")
    }

    // MARK: The hosts

    public func name(_ index: Int) -> String { String(format: "web-%02d", index + 1) }

    public func host(_ index: Int) -> InMemoryHost { agents.host(name(index)) }

    /// The slot host `index` routes to (`A`, `B`), nil before its first switch: what its nginx would answer from.
    public func slot(_ index: Int) -> String? { host(index).routed?.rawValue }

    /// Whether every host (or those of `indexes`) serves exactly `pins`.
    public func serves(_ pins: [String], hosts indexes: [Int]? = nil) -> Bool {
        (indexes ?? Array(0..<hosts)).allSatisfy { host($0).servedPins == pins }
    }
}
