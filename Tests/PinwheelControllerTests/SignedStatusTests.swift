import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// The controller's memory is its own (`watch --status-signing-key`): against in-memory hosts, a real bare remote,
/// commits signed by Alice (the policy requires signatures) and a status branch someone else can push. Each forgery
/// is pushed to the remote and the controller restarted over the same cache, as after a crash.
@Suite("Signed statuses", .tags(.security))
struct SignedStatusTests {

    struct World {
        let fleet: InMemoryTestFleet
        let config: ConfigRemote
        let logs: CapturedLogs
        let controller: Controller
        let alice: SigningKey
        let mallory: SigningKey
        /// The controller's own status key.
        let own: SigningKey
        let allowedSigners: String

        func status() throws -> EnvironmentStatus? {
            try config.status(of: fleet.environmentName)
        }

        func configuration() -> ControllerConfiguration {
            SignedStatusTests.configuration(fleet: fleet, config: config, own: own, allowedSigners: allowedSigners)
        }

        /// Another controller over the same remote and cache: the same one after a restart.
        func restarted(logs: CapturedLogs) -> Controller {
            Controller(configuration: configuration(), logger: logs.logger(), agents: fleet.agents)
        }

        func pollAndSettle(_ controller: Controller? = nil) async {
            await (controller ?? self.controller).poll()
            await (controller ?? self.controller).settle()
        }

        /// Pushes a status of someone else's making on top of the status branch: the newest one, edited by `edit`,
        /// committed by "Pinwheel" as the controller's are, unsigned or signed with `key`.
        @discardableResult
        func forgeStatus(signedWith key: SigningKey? = nil, _ edit: (inout EnvironmentStatus) -> Void) async throws -> String {
            var status = try #require(try status())
            edit(&status)
            let forger = "\(fleet.directory)/forger"
            if !FileManager.default.fileExists(atPath: forger) {
                try Program.run("/usr/bin/git", ["clone", "-q", "-b", EnvironmentStatus.defaultBranch, config.remote, forger])
            }
            let git = ["-C", forger, "-c", "user.name=Pinwheel", "-c", "user.email=pinwheel@test"]
            try Program.run("/usr/bin/git", git + ["pull", "-q", "--ff-only", "origin", EnvironmentStatus.defaultBranch])
            let path = "\(forger)/\(EnvironmentStatus.path(of: status.environment))"
            try status.yaml().write(toFile: path, atomically: false, encoding: .utf8)
            try Program.run("/usr/bin/git", git + ["add", "-A"])
            let sign = key.map { ["-c", "gpg.format=ssh", "-c", "user.signingkey=\($0.path)", "commit", "-S"] } ?? ["commit", "--no-gpg-sign"]
            try Program.run("/usr/bin/git", git + sign + ["-q", "-m", status.commitMessage])
            try Program.run("/usr/bin/git", git + ["push", "-q", "origin", "HEAD:\(EnvironmentStatus.defaultBranch)"])
            return try Program.run("/usr/bin/git", git + ["rev-parse", "HEAD"])
        }

        /// `%G?` of each status commit on the remote, newest first, as git checks them against the controller's key.
        func gitSignatureMarks() async throws -> [String] {
            let signers = "\(fleet.directory)/keys/status_signers"
            try "pinwheel@test \(try own.allowedSignersLine().split(separator: " ").dropFirst().joined(separator: " "))\n"
                .write(toFile: signers, atomically: false, encoding: .utf8)
            return try await config.inRemote(["-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=\(signers)",
                                              "log", "--format=%G?", EnvironmentStatus.defaultBranch])
                .split(separator: "\n").map(String.init)
        }

        func history(verifier: StatusVerifier) async throws -> EnvironmentHistory {
            let repository = try Repository(openingAt: config.remote)
            var history = try EnvironmentHistory.read(fleet.environmentName, in: repository, revision: "main")
            await history.checkStatusSignatures(with: verifier, in: repository)
            return history
        }
    }

    /// The controller's configuration: Alice's key trusted for commits, its own key signing statuses.
    static func configuration(fleet: InMemoryTestFleet, config: ConfigRemote, own: SigningKey,
                              allowedSigners: String) -> ControllerConfiguration {
        var configuration = SignedScene.configuration(fleet: fleet, config: config, allowedSigners: allowedSigners)
        configuration.statusSigningKey = own.path
        return configuration
    }

    func world() async throws -> World {
        let scene = try await SignedScene.make()
        let own = try await SigningKey.make("controller", in: scene.keys)
        let (fleet, config) = (scene.fleet, scene.config)
        let logs = CapturedLogs()
        let configuration = Self.configuration(fleet: fleet, config: config, own: own, allowedSigners: scene.allowedSigners)
        let world = World(fleet: fleet, config: config, logs: logs,
                          controller: Controller(configuration: configuration, logger: logs.logger(), agents: fleet.agents),
                          alice: scene.alice, mallory: scene.mallory, own: own, allowedSigners: scene.allowedSigners)
        // Alice's signed start is the first thing applied.
        _ = try await config.signedCommitAndPush("fleet: signed start", key: scene.alice)
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged)
        return world
    }

    @Test func aForgedStatusClaimingAnUnsignedCommitWasAppliedIsNotBelieved() async throws {
        let world = try await world()
        let start = try #require(try world.status()?.desired)
        let marks = try await world.gitSignatureMarks()
        #expect(!marks.isEmpty && marks.allSatisfy { $0 == "G" }, "git verifies the controller's statuses with its key: \(marks)")

        // Mallory pushes an unsigned release and a status saying it was applied: a controller that believed it would
        // check nothing between that commit and the tip.
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let unsigned = try await world.config.commitAndPush("fleet: release 1.1.0, unsigned", author: "Mallory")
        let forged = try await world.forgeStatus { status in
            status.desired = unsigned
            status.applied = unsigned
            status.result = .converged
            status.message = "converged"
        }
        // Forged in the status file alone: the unsigned read believes it.
        #expect(try world.status()?.lastApplied == unsigned)

        let logs = CapturedLogs()
        let mark = world.fleet.agents.exchanges.count
        let restarted = world.restarted(logs: logs)
        await world.pollAndSettle(restarted)
        let refused = try #require(try world.status())
        #expect(refused.result == .refused && refused.desired == unsigned, "\(refused.message)")
        #expect(refused.message.hasPrefix("unverified commit \(unsigned) by Mallory"), "\(refused.message)")
        #expect(refused.message.contains("range \(start)..\(unsigned), from the last applied commit"), "\(refused.message)")
        #expect(refused.applied == start, "the last applied commit is the one the controller signed for")
        #expect(world.fleet.agents.exchanges(since: mark).isEmpty, "no host was touched")
        #expect(world.fleet.slot(0) == "A")
        let warning = try #require(logs.events(.statusDisbelieved).first { $0.level == .warning })
        #expect(warning.metadata["status"] == String(forged.prefix(7)), "\(warning.metadata)")
        #expect(warning.metadata["env"] == world.fleet.environmentName)

        // git sees the same: the controller's statuses good, the forgery not signed.
        let after = try await world.gitSignatureMarks()
        #expect(after.first == "G" && after.filter { $0 == "N" }.count == 1 && after.allSatisfy { $0 == "G" || $0 == "N" }, "\(after)")

        // history marks which statuses the controller would believe.
        let history = try await world.history(verifier: try StatusVerifier(publicKeys: [world.own.path + ".pub"]))
        let entry = try #require(history.entries.first { $0.commit == unsigned })
        #expect(entry.applied.map(\.verified) == [true, false], "newest first: the controller's refusal, then the forgery")
        #expect(entry.applied.last?.statusSignature == "unsigned" && entry.applied.last?.statusCommit == forged)
        let all = history.entries.flatMap(\.applied)
        #expect(all.filter { $0.verified != true }.map(\.statusCommit) == [forged], "every other status is the controller's")
    }

    @Test func aForgedStatusDroppingAQuarantineDoesNotLiftIt() async throws {
        let world = try await world()
        try world.fleet.setPins(.b, "hello-service==9.9.9")
        try world.fleet.setActive(.b)
        let broken = try await world.config.signedCommitAndPush("fleet: release hello-service 9.9.9", key: world.alice)
        await world.pollAndSettle()
        let halted = try #require(try world.status())
        #expect(halted.result == .halted && halted.quarantined == [broken])

        // A status signed by a key the controller does not trust, saying the release converged and nothing is
        // quarantined; then an unsigned one on top saying the same.
        let untrusted = try await world.forgeStatus(signedWith: world.mallory) { status in
            status.result = .converged
            status.quarantined = []
            status.message = "converged"
        }
        let unsigned = try await world.forgeStatus { status in status.message = "converged, really" }
        #expect(try world.status()?.quarantined == [])

        let logs = CapturedLogs()
        let mark = world.fleet.agents.exchanges.count
        let restarted = world.restarted(logs: logs)
        await world.pollAndSettle(restarted)
        await world.pollAndSettle(restarted)
        #expect(world.fleet.agents.exchanges(since: mark).isEmpty, "the quarantined release reached no host")
        #expect(world.fleet.slot(0) == "A")
        #expect(!logs.events(.statusDisbelieved).isEmpty)
        #expect(await restarted.overview(of: world.fleet.environmentName)?.statusWarning?.contains("is not the controller's") == true,
                "the page and the API say so")

        // The controller's next status carries the quarantine forward, over the forgeries.
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        let fixed = try await world.config.signedCommitAndPush("fleet: release hello-service 1.1.0 instead", key: world.alice)
        await world.pollAndSettle(restarted)
        let converged = try #require(try world.status())
        #expect(converged.result == .converged && converged.desired == fixed, "\(converged.message)")
        #expect(converged.quarantined == [broken])
        #expect(await restarted.overview(of: world.fleet.environmentName)?.statusWarning == nil, "its own status replaced them")

        let history = try await world.history(verifier: try StatusVerifier(publicKeys: [world.own.path + ".pub"]))
        let marks = try #require(history.entries.first { $0.commit == broken }).applied
        #expect(marks.first { $0.statusCommit == untrusted }?.statusSignature == "untrusted")
        #expect(marks.first { $0.statusCommit == unsigned }?.statusSignature == "unsigned")
        #expect(marks.contains { $0.verified == true && $0.result == "halted" }, "the halt the controller recorded")
        #expect(marks.filter { $0.verified == true }.allSatisfy { $0.result != "converged" }, "no converged status of it is the controller's")
    }
}
