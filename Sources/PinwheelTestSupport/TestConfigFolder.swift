import Foundation
import PinwheelConfig
import PinwheelCore

/// A test fleet's config repository folder: `Environments/<environmentName>/` and `Policies/local.yaml`. The real
/// ``TestFleet`` and the ``InMemoryTestFleet`` edit their config the same way, so a test moves from one to the other
/// without rewriting its steps.
public protocol TestConfigFolder {
    /// The config repository (a plain folder).
    var config: String { get }
    /// The environment the fleet's hosts belong to.
    var environmentName: String { get }
}

extension TestConfigFolder {
    /// The policy both fleets start with: every host prepared at once, one canary, then half the rest, no pause,
    /// halting at the first failure, and drift healed.
    public static var defaultPolicy: String {
        """
        rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
        health: {retries: 40, interval: 250ms}
        drift: heal

        """
    }

    public var environmentFolder: String { "\(config)/Environments/\(environmentName)" }

    public func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: config).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    public func read(_ path: String) throws -> String {
        try String(contentsOfFile: "\(config)/\(path)", encoding: .utf8)
    }

    public func setPins(_ slot: Slot, _ pins: String) throws {
        try write("Environments/\(environmentName)/\(slot).txt", pins + "\n")
    }

    public func setActive(_ slot: Slot) throws {
        try editEnvironment {
            $0.replacingOccurrences(of: "active: A\n", with: "active: \(slot)\n")
                .replacingOccurrences(of: "active: B\n", with: "active: \(slot)\n")
        }
    }

    /// Edits the environment file.
    public func editEnvironment(_ edit: (String) -> String) throws {
        let path = "Environments/\(environmentName)/environment.yaml"
        try write(path, edit(try read(path)))
    }

    public func environment() throws -> Environment {
        try ConfigLoader(source: DirectoryConfigSource(root: config)).environment(environmentName)
    }
}
