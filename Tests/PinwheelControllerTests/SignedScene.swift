import Foundation
import PinwheelTestSupport
@testable import PinwheelController

/// Where the signed-commit suites (`SignedCommitTests`, `SignedStatusTests`) start: in-memory hosts whose policy
/// requires signatures, Alice's and Mallory's ssh-keygen keys, an allowed-signers file outside the config repository
/// that trusts Alice only, a real bare remote, and the controller's configuration over them.
struct SignedScene {
    let fleet: InMemoryTestFleet
    let config: ConfigRemote
    let alice: SigningKey
    let mallory: SigningKey
    /// The controller's own trust roots: Alice's key, outside the config repository.
    let allowedSigners: String

    /// The folder the keys are made in: a suite makes any other key it needs there.
    var keys: String { "\(fleet.directory)/keys" }

    static func make() async throws -> SignedScene {
        let fleet = try InMemoryTestFleet(hosts: 2)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 20, interval: 250ms}
            verify: {signatures: required}

            """)
        let keys = "\(fleet.directory)/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        let alice = try await SigningKey.make("alice", in: keys)
        let mallory = try await SigningKey.make("mallory", in: keys)
        let allowed = "\(keys)/allowed_signers"
        try (alice.allowedSignersLine() + "\n").write(toFile: allowed, atomically: false, encoding: .utf8)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        return SignedScene(fleet: fleet, config: config, alice: alice, mallory: mallory, allowedSigners: allowed)
    }

    func configuration() -> ControllerConfiguration {
        Self.configuration(fleet: fleet, config: config, allowedSigners: allowedSigners)
    }

    /// The controller's configuration: a fast poll over the remote, its cache in the fleet's folder, `allowedSigners`
    /// trusted for commits.
    static func configuration(fleet: InMemoryTestFleet, config: ConfigRemote, allowedSigners: String) -> ControllerConfiguration {
        ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
            controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory], allowedSigners: allowedSigners)
    }
}
