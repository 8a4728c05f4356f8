import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// A resident session's own logic against the real loop (`pinwheel_resident.py`) run by this machine's Python, without
/// ssh: many requests to one process, a deadline that kills it, a process that dies while idle, closing, and the
/// sessions' cap.
@Suite("Resident sessions")
struct ResidentSessionTests {
    static let python = "/usr/bin/python3"

    /// A loop on this machine, running `agent` (the real agent by default).
    static func session(agent: String = AgentScript.source) -> ResidentSession {
        ResidentSession(path: python, arguments: ["-I", "-S", "-c", ResidentScript.source],
                        agentFrame: AgentFrame.encode(Array(agent.utf8)))
    }

    /// An agent whose request says how long to take (`{"sleep": seconds}`), and that answers with its process.
    static let sleepy = """
        import os, time, json
        def json_loads(text):
            return json.loads(text)
        def json_dumps(value):
            return json.dumps(value)
        def reply(ok, code=None, error=None):
            return {"ok": ok, "code": code, "error": error}
        def handle(request):
            time.sleep(request.get("sleep", 0))
            return {"ok": True, "pid": os.getpid()}
        """

    static func json(_ outcome: ResidentOutcome) -> [String: Any]? {
        guard case let .reply(bytes) = outcome else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    static func exists(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    @Test func oneProcessAnswersRequestAfterRequestWithTheAgentsOwnReplies() async throws {
        let session = Self.session()
        let request = Array(#"{"protocol": 2, "action": "observe"}"#.utf8)
        for _ in 0..<3 {
            let reply = try #require(Self.json(await session.send(request, timeout: .seconds(60))))
            #expect(reply["ok"] as? Bool == false)
            #expect(reply["code"] as? String == "badRequest", "\(reply)")
            #expect(reply["protocol"] as? Int == AgentRequest.protocolVersion)
        }
        #expect(session.answered == 3)
        let pid = try #require(session.processID)
        await session.close()
        #expect(!session.isAlive)
        #expect(!Self.exists(pid), "closing ends the process")
    }

    @Test func aRequestPastItsDeadlineKillsTheSession() async throws {
        let session = Self.session(agent: Self.sleepy)
        let first = try #require(Self.json(await session.send(Array(#"{"sleep": 0}"#.utf8), timeout: .seconds(30))))
        let agent = try #require(first["pid"] as? Int)
        let started = ContinuousClock.now
        let outcome = await session.send(Array(#"{"sleep": 30}"#.utf8), timeout: .milliseconds(300))
        #expect(outcome == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10), "the deadline, not the agent, ended the wait")
        #expect(await eventually { !session.isAlive })
        let after = await session.send(Array(#"{"sleep": 0}"#.utf8), timeout: .seconds(5))
        guard case let .ended(_, _, delivered) = after, !delivered else {
            Issue.record("a killed session takes no request: \(after)")
            return
        }
        await session.close()
        // Here the loop is this process's child, so killing it ends the agent too (over ssh the host's may finish its
        // request, as a one-shot agent's does).
        #expect(await eventually { !Self.exists(pid_t(agent)) })
    }

    @Test func anAgentKilledWhileIdleIsNoticedBeforeTheNextRequest() async throws {
        let session = Self.session(agent: Self.sleepy)
        let first = try #require(Self.json(await session.send(Array("{}".utf8), timeout: .seconds(30))))
        let agent = try #require(first["pid"] as? Int)
        kill(pid_t(agent), SIGKILL)
        #expect(await eventually { !session.isAlive }, "its output ended: the session is known dead while idle")
        let outcome = await session.send(Array("{}".utf8), timeout: .seconds(5))
        guard case let .ended(_, _, delivered) = outcome else {
            Issue.record("no answer from a dead session: \(outcome)")
            return
        }
        #expect(!delivered, "the request was never written: it may be sent again on a fresh session")
        await session.close()
    }

    @Test func theSessionsKeepOnePerKeyBusyOnesAreNotSharedAndTheCapHolds() async throws {
        let sessions = ResidentSessions(capacity: 2, idleTimeout: .seconds(60), evictionAge: .zero)
        let first = try #require(await sessions.checkout("a") { Self.session(agent: Self.sleepy) })
        #expect(first.fresh)
        #expect(await sessions.checkout("a") { Self.session(agent: Self.sleepy) } == nil, "busy: the one-shot path")
        await sessions.checkin("a", first.session)
        let again = try #require(await sessions.checkout("a") { Self.session(agent: Self.sleepy) })
        #expect(again.session === first.session && !again.fresh, "the same process, kept")
        await sessions.checkin("a", again.session)
        let second = try #require(await sessions.checkout("b") { Self.session(agent: Self.sleepy) })
        // At the cap with "b" busy: "a" (idle, least recently used) makes room for "c".
        let third = try #require(await sessions.checkout("c") { Self.session(agent: Self.sleepy) })
        #expect(await sessions.count == 2)
        #expect(await sessions.checkout("d") { Self.session(agent: Self.sleepy) } == nil, "every session busy at the cap")
        #expect(await eventually { !first.session.isAlive }, "the evicted session is ended")
        for session in [second.session, third.session] {
            #expect(Self.json(await session.send(Array("{}".utf8), timeout: .seconds(30))) != nil)
        }
        await sessions.checkin("b", second.session)
        await sessions.checkin("c", third.session)
        let pids = await sessions.processIDs
        #expect(pids.count == 2)
        await sessions.closeAll()
        #expect(await sessions.count == 0)
        #expect(pids.allSatisfy { !Self.exists($0) }, "closing ends every process")
        #expect(await sessions.checkout("a") { Self.session(agent: Self.sleepy) } == nil, "closed: the one-shot path")
        #expect(await sessions.started == 3)
    }

    /// More hosts than the cap, swept again and again (200 hosts, 64 sessions): a session the sweep just used is not
    /// evicted to make room, so the hosts beyond the cap take the one-shot path instead of each starting a session that
    /// the next host's request ends; one idle for the eviction age makes room.
    @Test func aSessionJustUsedIsNotEvictedForAnotherHost() async throws {
        let sessions = ResidentSessions(capacity: 1, idleTimeout: .seconds(60), evictionAge: .milliseconds(500))
        let first = try #require(await sessions.checkout("a") { Self.session(agent: Self.sleepy) })
        await sessions.checkin("a", first.session)
        #expect(await sessions.checkout("b") { Self.session(agent: Self.sleepy) } == nil, "a was just used: b goes one shot")
        #expect(await sessions.count == 1 && first.session.isAlive)
        try await Task.sleep(for: .milliseconds(600))
        let second = try #require(await sessions.checkout("b") { Self.session(agent: Self.sleepy) }, "a idle long enough")
        #expect(second.fresh)
        #expect(await eventually { !first.session.isAlive }, "the evicted session is ended")
        await sessions.checkin("b", second.session)
        #expect(await sessions.started == 2)
        await sessions.closeAll()
    }

    @Test func idleSessionsAreClosedAfterTheirTimeout() async throws {
        let sessions = ResidentSessions(capacity: 4, idleTimeout: .milliseconds(300))
        let taken = try #require(await sessions.checkout("a") { Self.session(agent: Self.sleepy) })
        #expect(Self.json(await taken.session.send(Array("{}".utf8), timeout: .seconds(30))) != nil)
        await sessions.checkin("a", taken.session)
        let pid = try #require(taken.session.processID)
        #expect(await eventually(within: .seconds(10)) { !Self.exists(pid) }, "an idle session is ended by itself")
        #expect(await sessions.count == 0)
        await sessions.closeAll()
    }
}
