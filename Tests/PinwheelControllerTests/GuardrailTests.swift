import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelController

/// A clock the test moves.
final class TestClock: Sendable {
    private let date: Mutex<Date>

    init(_ text: String) {
        date = Mutex(ISO8601DateFormatter().date(from: text)!)
    }

    func set(_ text: String) {
        let value = ISO8601DateFormatter().date(from: text)!
        date.withLock { $0 = value }
    }

    var now: Date { date.withLock { $0 } }
}

/// Deploy windows, history rewrites, quarantine and the failure budget, against in-memory hosts and a real bare remote.
@Suite("Controller guardrails")
struct GuardrailTests {

    struct World {
        let fleet: InMemoryTestFleet
        let config: ConfigRemote
        let logs: CapturedLogs
        let controller: Controller

        func status() throws -> EnvironmentStatus? {
            try config.status(of: fleet.environmentName)
        }

        /// What the last status says went wrong, and the controller's warnings and errors: the message of an
        /// expectation on the status, so a failure under load says why.
        func explanation() -> String {
            let status = try? status()
            let hosts = (status?.hosts ?? [:]).sorted { $0.key < $1.key }.compactMap { name, host in
                host.error.map { "\(name): \($0)" }
            }
            let problems = logs.all.filter { $0.level >= .warning }.suffix(10).map { "\($0.message) \($0.metadata)" }
            return (["status \(status.map { "\($0.result)" } ?? "none"): \(status?.message ?? "")"] + hosts + problems)
                .joined(separator: "\n")
        }

        func statusMessages() async throws -> [String] {
            try await config.inRemote(["log", "--format=%s", "pinwheel/status"]).split(separator: "\n").map(String.init)
        }

        func configuration(allowHistoryRewrite: Bool = false, clock: TestClock? = nil) -> ControllerConfiguration {
            ControllerConfiguration(
                repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
                cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
                controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory],
                allowHistoryRewrite: allowHistoryRewrite,
                now: { clock?.now ?? Date() })
        }

        /// Another controller over the same remote and cache: the same one after a restart.
        func restarted(allowHistoryRewrite: Bool = false, logs: CapturedLogs) -> Controller {
            Controller(configuration: configuration(allowHistoryRewrite: allowHistoryRewrite), logger: logs.logger(), agents: fleet.agents)
        }

        func pollAndSettle(_ controller: Controller? = nil) async {
            await (controller ?? self.controller).poll()
            await (controller ?? self.controller).settle()
        }
    }

    func world(hosts: Int = 2, policy: String = "", clock: TestClock? = nil) async throws -> World {
        let fleet = try InMemoryTestFleet(hosts: hosts)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 20, interval: 250ms}
            drift: report
            \(policy)

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let logs = CapturedLogs()
        let configuration = ControllerConfiguration(
            repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
            cacheDirectory: "\(fleet.directory)/cache", authorName: "Pinwheel", authorEmail: "pinwheel@test",
            controlDirectory: "\(fleet.directory)/cm", allowedIdentityFolders: [fleet.directory],
            now: { clock?.now ?? Date() })
        return World(fleet: fleet, config: config, logs: logs,
                     controller: Controller(configuration: configuration, logger: logs.logger(), agents: fleet.agents))
    }

    @Test func aReleaseWaitsForItsWindowAndARollbackDoesNot() async throws {
        // No changes from midnight to noon, UTC, every day.
        let clock = TestClock("2026-11-20T13:00:00Z")
        let world = try await world(policy: "windows:\n  - deny: {from: \"00:00\", to: \"12:00\", zone: UTC}", clock: clock)
        await world.pollAndSettle()
        #expect(try world.status()?.result == .converged, "\(world.explanation())")

        clock.set("2026-11-21T09:00:00Z")
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        let mark = world.fleet.agents.exchanges.count
        await world.pollAndSettle()
        let waiting = try #require(try world.status())
        #expect(waiting.result == .waiting)
        #expect(waiting.desired == release)
        #expect(waiting.message == "waiting for the window at 2026-11-21T12:00:00Z (deny every day 00:00-12:00 UTC)")
        #expect(waiting.active == .a, "the hosts keep what was applied")
        #expect(world.fleet.agents.exchanges(since: mark).isEmpty, "no host was touched")
        #expect(world.fleet.serves(["hello-service==1.0.0"]))

        // Polls before the window opens change nothing and commit nothing, though the branch does not move.
        let before = try await world.statusMessages().count
        clock.set("2026-11-21T11:59:00Z")
        await world.pollAndSettle()
        #expect(try await world.statusMessages().count == before)
        #expect(try world.status()?.result == .waiting)

        // The window opens: the next poll applies it by itself.
        clock.set("2026-11-21T12:00:00Z")
        await world.pollAndSettle()
        let applied = try #require(try world.status())
        #expect(applied.result == .converged && applied.desired == release && applied.active == .b)
        #expect(world.fleet.serves(["hello-service==1.1.0"]))

        // A revert the next morning is a rollback to the warm slot A: it passes the window.
        clock.set("2026-11-22T09:00:00Z")
        let revert = try await world.config.revertAndPush()
        await world.pollAndSettle()
        let rolledBack = try #require(try world.status())
        #expect(rolledBack.result == .converged && rolledBack.desired == revert && rolledBack.active == .a)
        #expect(world.fleet.serves(["hello-service==1.0.0"]))
    }

    @Test func aRewrittenHistoryIsRefusedUnlessAllowed() async throws {
        let world = try await world()
        await world.pollAndSettle()
        try world.fleet.setActive(.b)
        let flip = try await world.config.commitAndPush("fleet: switch to B")
        await world.pollAndSettle()
        #expect(try world.status()?.desired == flip)
        #expect(try world.status()?.result == .converged, "\(world.explanation())")

        // Someone rewrites main: drops the last commit and force-pushes another in its place.
        try await world.config.inWork(["reset", "-q", "--hard", "HEAD~1"])
        try world.fleet.write("NOTES.md", "rewritten\n")
        try await world.config.inWork(["add", "-A"])
        try await world.config.inWork(["commit", "-qm", "fleet: back to A, force-pushed"])
        try await world.config.inWork(["push", "-q", "--force", "origin", "main"])
        let rewritten = try await world.config.head()
        let mark = world.fleet.agents.exchanges.count
        await world.pollAndSettle()
        let refused = try #require(try world.status())
        #expect(refused.result == .refused)
        #expect(refused.desired == rewritten)
        #expect(refused.message.contains(rewritten) && refused.message.contains(flip), "\(refused.message)")
        #expect(refused.applied == flip)
        #expect(world.fleet.agents.exchanges(since: mark).isEmpty, "nothing applied")
        #expect(world.fleet.slot(0) == "B")

        // A controller started with --allow-history-rewrite accepts it.
        let logs = CapturedLogs()
        let allowing = world.restarted(allowHistoryRewrite: true, logs: logs)
        await world.pollAndSettle(allowing)
        let accepted = try #require(try world.status())
        #expect(accepted.result == .converged && accepted.desired == rewritten && accepted.active == .a)
        #expect(world.fleet.slot(0) == "A")
    }

    @Test func aHaltedCommitIsQuarantinedAlsoAfterARestart() async throws {
        let world = try await world()
        await world.pollAndSettle()
        try world.fleet.setPins(.b, "hello-service==9.9.9")
        try world.fleet.setActive(.b)
        let broken = try await world.config.commitAndPush("fleet: release hello-service 9.9.9")
        await world.pollAndSettle()
        let halted = try #require(try world.status())
        #expect(halted.result == .halted && halted.desired == broken)
        #expect(halted.quarantined == [broken])

        // A restart: a new controller over the same remote and cache does not roll it out again.
        let before = try await world.statusMessages().count
        let mark = world.fleet.agents.exchanges.count
        let restarted = world.restarted(logs: CapturedLogs())
        await world.pollAndSettle(restarted)
        await world.pollAndSettle(restarted)
        #expect(world.fleet.agents.exchanges(since: mark).isEmpty, "no host was asked anything")
        #expect(try await world.statusMessages().count == before)
        #expect(world.fleet.slot(0) == "A")

        // A new commit is a new decision.
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        let fixed = try await world.config.commitAndPush("fleet: release hello-service 1.1.0 instead")
        await world.pollAndSettle(restarted)
        let converged = try #require(try world.status())
        #expect(converged.result == .converged && converged.desired == fixed)
        #expect(converged.quarantined == [broken], "carried forward")
        #expect(world.fleet.serves(["hello-service==1.1.0"]))
    }
}
