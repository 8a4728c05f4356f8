import Foundation
import PinwheelCore
import PinwheelEngine
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// Resident agents (what `watch` uses) against a real loopback fleet: reconciles converge over one agent process per
/// host kept between them, a session whose agent or ssh was killed while idle is replaced by a fresh one, a request
/// past its deadline is a timeout as a one-shot round trip's is, and closing leaves no process behind.
@Suite("Resident agents on a real fleet", .serialized, .tags(.fleet))
struct ResidentOnARealFleetTests {
    static let first = 116

    /// The fleet's transports, each through `sessions`.
    static func resident(_ fleet: TestFleet, _ environment: Environment, _ sessions: ResidentSessions) -> [String: any Transport] {
        fleet.transports(for: environment).mapValues { transport in
            ResidentTransport(transport as! SSHTransport, sessions: sessions)
        }
    }

    static func agent(_ fleet: TestFleet, _ sessions: ResidentSessions?, host index: Int = 0) throws -> HostAgent {
        let environment = try fleet.environment()
        let host = environment.hosts[index]
        let plain = try #require(fleet.transports(for: environment)[host.name] as? SSHTransport)
        let transport: any Transport = sessions.map { ResidentTransport(plain, sessions: $0) } ?? plain
        return HostAgent(target: environment.target(for: host), python: environment.python, transport: transport, commit: nil)
    }

    @Test func reconcilesConvergeOverOneAgentProcessPerHost() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let sessions = ResidentSessions()
        let environment = try fleet.environment()
        let deploy = await EnvironmentReconciler(environment: environment, transports: Self.resident(fleet, environment, sessions),
                                                 commit: nil).reconcile().hosts
        #expect(deploy.map(\.outcome) == [.changed, .changed], "\(deploy.map { $0.error?.message ?? "" })")
        _ = try await fleet.waitUntilServing("hello-service 1.0.0")
        let agents = fleet.residentAgents()
        #expect(agents.count == 2, "one agent process per host: \(agents)")

        // A release, then nothing to do: every round trip on the same two processes.
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let released = try fleet.environment()
        let release = await EnvironmentReconciler(environment: released, transports: Self.resident(fleet, released, sessions),
                                                  commit: nil).reconcile().hosts
        #expect(release.map(\.outcome) == [.changed, .changed], "\(release.map { $0.error?.message ?? "" })")
        let bodies = try await fleet.waitUntilServing("hello-service 1.1.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.1.0") }, "\(bodies)")
        let noop = await EnvironmentReconciler(environment: released, transports: Self.resident(fleet, released, sessions),
                                               commit: nil).reconcile().hosts
        #expect(noop.map(\.outcome) == [.converged, .converged], "\(noop.map { $0.error?.message ?? "" })")
        #expect(await sessions.started == 2, "no session was started after the first two")
        #expect(Set(fleet.residentAgents()) == Set(agents), "the same agent processes served every round trip")

        let clients = await sessions.processIDs
        await sessions.closeAll()
        #expect(await eventually { fleet.residentAgents().isEmpty }, "closing ends the hosts' agents")
        #expect(clients.allSatisfy { kill($0, 0) != 0 }, "and the ssh clients")
    }

    @Test func aSessionKilledWhileIdleIsReplacedByAFreshOne() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        _ = try await fleet.apply()
        let sessions = ResidentSessions()
        let agent = try Self.agent(fleet, sessions)
        #expect(try await agent.observe().routed == .a)
        let first = fleet.residentAgents()
        #expect(first.count == 1)

        // The host's agent process dies while idle: the next observation gets a fresh session, unnoticed.
        for pid in first { kill(pid, SIGKILL) }
        #expect(try await agent.observe().routed == .a)
        // A switch too (it is never re-sent blindly: the dead session is noticed before it is written).
        #expect(await eventually { fleet.residentAgents().count == 1 })
        for pid in fleet.residentAgents() { kill(pid, SIGKILL) }
        try await Task.sleep(for: .milliseconds(500))
        let switched = await agent.execute([.route(.a)])
        #expect(switched.ok, "\(String(describing: switched.error))")

        // The ssh client dies while idle: the same.
        for pid in await sessions.processIDs { kill(pid, SIGKILL) }
        #expect(try await agent.observe().routed == .a)
        // That observation may have found the client dead only once it wrote (its retry then took the one-shot path
        // and the dead session was dropped): the next one has a session again, one for the host.
        #expect(try await agent.observe().routed == .a)
        #expect(await sessions.started >= 3)
        #expect(await sessions.count == 1)
        await sessions.closeAll()
        #expect(await eventually { fleet.residentAgents().isEmpty })
    }

    /// What each agent's observation failed with, in order; one that answered is recorded as `unexpected`.
    static func failures(of agents: [HostAgent], timeout: Duration, _ unexpected: Comment) async throws -> [FleetError] {
        var errors: [FleetError] = []
        for agent in agents {
            do {
                _ = try await agent.observe(timeout: timeout)
                Issue.record(unexpected)
            } catch let error as FleetError {
                errors.append(error)
            }
        }
        return errors
    }

    @Test func aRequestPastItsDeadlineIsATimeoutAsToday() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        _ = try await fleet.apply()
        let sessions = ResidentSessions()
        let resident = try Self.agent(fleet, sessions)
        let oneShot = try Self.agent(fleet, nil)
        _ = try await resident.observe()
        _ = try await oneShot.observe()

        try await fleet.freezeHost(0)
        let errors = try await Self.failures(of: [resident, oneShot], timeout: .seconds(2), "a frozen host answered")
        try await fleet.thawHost(0)
        #expect(errors.map(\.code) == [.timeout, .timeout])
        #expect(errors.first?.message == errors.last?.message, "the same words: \(errors.map(\.message))")
        #expect(errors.first?.failure.code == .timeout)

        // The session past its deadline was killed; the next request starts a fresh one and is answered.
        #expect(try await resident.observe().routed == .a)
        #expect(await sessions.started == 2)
        await sessions.closeAll()
        #expect(await eventually { fleet.residentAgents().isEmpty }, "no agent is left on the host")
    }

    @Test func aHostWhoseSSHDGoesDownIsUnreachableAsTodayAndComesBackOnAFreshSession() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        _ = try await fleet.apply()
        let sessions = ResidentSessions()
        let resident = try Self.agent(fleet, sessions)
        let oneShot = try Self.agent(fleet, nil)
        _ = try await resident.observe()

        // sshd stops and drops its sessions (and the agent they run): both paths report the same code.
        try await fleet.stopHost(0)
        let codes = try await Self.failures(of: [resident, oneShot], timeout: .seconds(30), "a host without sshd answered")
            .map(\.code)
        #expect(codes == [.unreachable, .unreachable], "\(codes)")
        #expect(fleet.residentAgents().isEmpty)

        try await fleet.startHost(0)
        #expect(try await resident.observe().routed == .a)
        #expect(fleet.residentAgents().count == 1)
        await sessions.closeAll()
    }
}
