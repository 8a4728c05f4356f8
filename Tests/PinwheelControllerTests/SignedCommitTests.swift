import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// `verify: {signatures: required}` against in-memory hosts, a real bare remote and commits signed with
/// ssh-keygen keys: the controller's --allowed-signers trusts Alice only.
// Serialized: each test checks that no signature file is left in the temporary folder, which another one's check may
// be using at that moment.
@Suite("Signed commits", .serialized)
struct SignedCommitTests {

    struct World {
        let fleet: InMemoryTestFleet
        let config: ConfigRemote
        let logs: CapturedLogs
        let controller: Controller
        let alice: SigningKey
        let mallory: SigningKey

        func status() throws -> EnvironmentStatus? {
            try config.status(of: fleet.environmentName)
        }

        func pollAndSettle() async {
            await controller.poll()
            await controller.settle()
        }
    }

    func world() async throws -> World {
        let scene = try await SignedScene.make()
        let logs = CapturedLogs()
        return World(fleet: scene.fleet, config: scene.config, logs: logs,
                     controller: Controller(configuration: scene.configuration(), logger: logs.logger(), agents: scene.fleet.agents),
                     alice: scene.alice, mallory: scene.mallory)
    }

    /// Signature folders that stay in the temporary folder. Other suites of this process verify signatures at the same
    /// time, and their folders (each named once by mkdtemp) are gone a moment later; a folder this suite left behind is
    /// still there after every sample.
    static func leftovers() async throws -> [String] {
        func sample() throws -> Set<String> {
            Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("pinwheel-signature.") })
        }
        var lasting = try sample()
        for _ in 0..<20 where !lasting.isEmpty {
            try await Task.sleep(for: .milliseconds(250))
            lasting.formIntersection(try sample())
        }
        return lasting.sorted()
    }

    @Test func anUnsignedCommitInARangeIsRefusedUntilATrustedSignerAcceptsIt() async throws {
        let world = try await world()
        // Nothing applied yet: the tip alone must be signed. The initial commit is not, so it is refused...
        await world.pollAndSettle()
        let unsignedStart = try #require(try world.status())
        #expect(unsignedStart.result == .refused)
        #expect(unsignedStart.message.contains("unsigned") && unsignedStart.message.contains("nothing was applied before, so the tip"), "\(unsignedStart.message)")
        // ...and a signed commit on top is the first thing applied.
        let start = try await world.config.signedCommitAndPush("fleet: signed start", key: world.alice)
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged)
        #expect(try world.status()?.desired == start)

        // A clean range of two signed commits applies.
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        _ = try await world.config.signedCommitAndPush("fleet: pin 1.1.0 in B", key: world.alice)
        try world.fleet.setActive(.b)
        let release = try await world.config.signedCommitAndPush("fleet: switch to B", key: world.alice)
        await world.pollAndSettle()
        let released = try #require(try world.status())
        #expect(released.result == .converged && released.desired == release && released.active == .b, "\(released.message)")
        #expect(world.fleet.serves(["hello-service==1.1.0"]))

        // Mallory pushes an unsigned commit; Alice signs the next one on top: the range is refused, naming Mallory's.
        try world.fleet.write("NOTES.md", "mallory was here\n")
        let unsigned = try await world.config.commitAndPush("notes: harmless, honest", author: "Mallory")
        try world.fleet.setActive(.a)
        let rollback = try await world.config.signedCommitAndPush("fleet: back to A", key: world.alice)
        let mark = world.fleet.agents.exchanges.count
        await world.pollAndSettle()
        let refused = try #require(try world.status())
        #expect(refused.result == .refused && refused.desired == rollback)
        #expect(refused.message.hasPrefix("unverified commit \(unsigned) by Mallory <mallory@example.com> (\"notes: harmless, honest\"): unsigned"),
                "\(refused.message)")
        #expect(refused.message.contains("; range \(release)..\(rollback), from the last applied commit; nothing applied."), "\(refused.message)")
        #expect(refused.applied == release, "the fleet keeps the last applied state")
        #expect(world.fleet.agents.exchanges(since: mark).isEmpty, "no host was touched")
        #expect(world.fleet.slot(0) == "B")

        // A signed revert of the unsigned commit does not launder it: it is still between the last applied commit
        // and the tip.
        try await world.config.inWork(["-c", "gpg.format=ssh", "-c", "user.signingkey=\(world.alice.path)", "revert", "-S", "--no-edit", unsigned])
        try await world.config.inWork(["push", "-q", "origin", "main"])
        let revert = try await world.config.head()
        await world.pollAndSettle()
        let stillRefused = try #require(try world.status())
        #expect(stillRefused.result == .refused && stillRefused.desired == revert)
        #expect(stillRefused.message.hasPrefix("unverified commit \(unsigned) by Mallory"), "\(stillRefused.message)")
        #expect(world.fleet.slot(0) == "B")

        // Alice accepts it by name in a signed commit: the range is clean and applies.
        let accept = try await world.config.signedCommitAndPush("accept Mallory's notes commit\n\nPinwheel-Accept: \(unsigned)",
                                                                key: world.alice)
        await world.pollAndSettle()
        let accepted = try #require(try world.status())
        #expect(accepted.result == .converged && accepted.desired == accept && accepted.active == .a, "\(accepted.message)")
        #expect(world.fleet.serves(["hello-service==1.0.0"]))
        #expect(try await Self.leftovers().isEmpty, "no signature file is left behind")
    }

    @Test func aCommitThatTrustsItsOwnKeyInsideTheRepositoryIsRefused() async throws {
        let world = try await world()
        let start = try await world.config.signedCommitAndPush("fleet: signed start", key: world.alice)
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged && world.status()?.desired == start)

        // Mallory adds her key to an allowed-signers file in the repository and signs her release with it.
        try world.fleet.write(".pinwheel/allowed_signers", try world.alice.allowedSignersLine() + "\n" + world.mallory.allowedSignersLine() + "\n")
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let sneaky = try await world.config.signedCommitAndPush("fleet: release 1.1.0, trust mallory", key: world.mallory, author: "Mallory")
        await world.pollAndSettle()
        let refused = try #require(try world.status())
        #expect(refused.result == .refused && refused.desired == sneaky)
        #expect(refused.message.hasPrefix("unverified commit \(sneaky) by Mallory <mallory@example.com>"), "\(refused.message)")
        #expect(refused.message.contains("signed by an untrusted key (ED25519 SHA256:"), "\(refused.message)")
        #expect(world.fleet.slot(0) == "A")

        // An unsigned commit that switches verification off does not switch it off: the last applied policy requires it.
        try world.fleet.write("Policies/local.yaml", "rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s}\nhealth: {retries: 20, interval: 250ms}\n")
        let off = try await world.config.commitAndPush("policy: no more signatures", author: "Mallory")
        await world.pollAndSettle()
        let stillRefused = try #require(try world.status())
        #expect(stillRefused.result == .refused && stillRefused.desired == off)
        #expect(stillRefused.message.contains("1 more unverified commit"), "\(stillRefused.message)")
        #expect(world.fleet.slot(0) == "A")
        #expect(try await Self.leftovers().isEmpty)
    }

    @Test func aRewrittenHistoryIsAcceptedByASignedMarkerCommitOnly() async throws {
        let world = try await world()
        _ = try await world.config.signedCommitAndPush("fleet: signed start", key: world.alice)
        try world.fleet.setActive(.b)
        let flip = try await world.config.signedCommitAndPush("fleet: switch to B", key: world.alice)
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged && world.status()?.desired == flip)

        // Alice drops the last commit and force-pushes another, signed: still a rewritten history.
        try await world.config.inWork(["reset", "-q", "--hard", "HEAD~1"])
        try world.fleet.write("NOTES.md", "rewritten\n")
        try await world.config.inWork(["add", "-A"])
        try await world.config.inWork(["-c", "gpg.format=ssh", "-c", "user.signingkey=\(world.alice.path)", "commit", "-S", "-qm",
                                       "fleet: back to A, rewritten"])
        try await world.config.inWork(["push", "-q", "--force", "origin", "main"])
        let rewritten = try await world.config.head()
        await world.pollAndSettle()
        let refused = try #require(try world.status())
        #expect(refused.result == .refused && refused.desired == rewritten)
        #expect(refused.message.contains("Pinwheel-Accept-Rewrite: \(flip)"), "\(refused.message)")

        // A marker naming the last applied commit, but signed by Mallory's untrusted key, accepts nothing.
        let forged = try await world.config.signedCommitAndPush("accept the rewrite\n\nPinwheel-Accept-Rewrite: \(flip)",
                                                                key: world.mallory, author: "Mallory")
        await world.pollAndSettle()
        #expect(try world.status()?.result == .refused && world.status()?.desired == forged)
        #expect(world.fleet.slot(0) == "B")

        // Alice's signed marker accepts it; the range since the old applied commit must still be signed: Mallory's
        // commit is in it, so Alice accepts that one by name too.
        let marker = try await world.config.signedCommitAndPush(
            "accept the rewrite\n\nPinwheel-Accept-Rewrite: \(flip)\nPinwheel-Accept: \(forged)", key: world.alice)
        await world.pollAndSettle()
        let accepted = try #require(try world.status())
        #expect(accepted.result == .converged && accepted.desired == marker && accepted.active == .a, "\(accepted.message)")
        #expect(world.fleet.slot(0) == "A")
    }
}
