import Foundation
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// The notify protocol's pure part (messages, systemd's environment) and the notifier over a real datagram socket.
@Suite("systemd notify protocol")
struct SystemdNotifyTests {
    @Test func messagesAreNewlineSeparatedAssignments() {
        #expect(NotifyMessage.ready(status: "ok").text == "READY=1\nSTATUS=ok")
        #expect(NotifyMessage.watchdog(status: "ok").text == "WATCHDOG=1\nSTATUS=ok")
        #expect(NotifyMessage.stopping(status: "bye").text == "STOPPING=1\nSTATUS=bye")
        #expect(NotifyMessage.status("waiting").text == "STATUS=waiting")
    }

    @Test func theStatusIsOneLineOfBoundedLength() {
        #expect(NotifyMessage.statusLine("fetch failed:\nno route\r\tto host") == "fetch failed: no route  to host")
        let long = NotifyMessage.statusLine(String(repeating: "x", count: 500))
        #expect(long.count == NotifyMessage.statusLimit)
        #expect(long.hasSuffix("…"))
        // A newline in a status can never start a second assignment.
        #expect(NotifyMessage.watchdog(status: "a\nREADY=1").text == "WATCHDOG=1\nSTATUS=a READY=1")
    }

    @Test func theSocketIsAPathOrAnAbstractName() {
        #expect(NotifyEnvironment(["NOTIFY_SOCKET": "/run/systemd/notify"], pid: 1)?.address == .path("/run/systemd/notify"))
        #expect(NotifyEnvironment(["NOTIFY_SOCKET": "@/org/freedesktop/systemd1/notify/42"], pid: 1)?.address
            == .abstract("/org/freedesktop/systemd1/notify/42"))
        #expect(NotifyEnvironment([:], pid: 1) == nil)
        #expect(NotifyEnvironment(["NOTIFY_SOCKET": ""], pid: 1) == nil)
        #expect(NotifyEnvironment(["NOTIFY_SOCKET": "@"], pid: 1) == nil)
        #expect(NotifyEnvironment(["NOTIFY_SOCKET": "vsock:2:1234"], pid: 1) == nil)
    }

    @Test func theWatchdogIsPingedAtHalfItsTimeoutAndOnlyByItsProcess() {
        #expect(NotifyEnvironment.watchdogPingInterval(["WATCHDOG_USEC": "30000000"], pid: 7) == .seconds(15))
        #expect(NotifyEnvironment.watchdogPingInterval(["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "7"], pid: 7) == .milliseconds(500))
        #expect(NotifyEnvironment.watchdogPingInterval(["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "8"], pid: 7) == nil)
        #expect(NotifyEnvironment.watchdogPingInterval(["WATCHDOG_USEC": "0"], pid: 7) == nil)
        #expect(NotifyEnvironment.watchdogPingInterval(["WATCHDOG_USEC": "-5"], pid: 7) == nil)
        #expect(NotifyEnvironment.watchdogPingInterval(["WATCHDOG_USEC": "soon"], pid: 7) == nil)
        #expect(NotifyEnvironment.watchdogPingInterval([:], pid: 7) == nil)
        #expect(NotifyEnvironment(["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "4000000"], pid: 7)?.watchdogPingInterval == .seconds(2))
    }

    @Test func readyWaitsForTheFirstPollAndTheListenerAndIsSentOnce() throws {
        let folder = try TemporaryFolder("notify")
        let receiver = try NotifySocketReceiver(path: folder.path("notify.sock"))
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path], waitsForListener: true))
        notifier.listening(status: "listening")
        #expect(receiver.receive(timeout: .milliseconds(200)) == nil)
        notifier.polled(status: "ok; polled 0s ago")
        #expect(receiver.receive(timeout: .seconds(5)) == "READY=1\nSTATUS=ok; polled 0s ago")
        notifier.polled(status: "again")
        #expect(receiver.receive(timeout: .milliseconds(200)) == nil)
    }

    @Test func anAbstractSocketReceivesPingsThatAreSpacedOut() throws {
        let name = "pinwheel-test-\(UUID().uuidString)"
        let receiver = try NotifySocketReceiver(abstractName: name)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@\(name)", "WATCHDOG_USEC": "2000000"],
                                                    waitsForListener: false))
        let start = ContinuousClock.now
        notifier.alive(status: "ok", now: start)
        #expect(receiver.receive(timeout: .seconds(5)) == "WATCHDOG=1\nSTATUS=ok")
        // Half a ping interval (1s) later at the earliest.
        notifier.alive(status: "too soon", now: start + .milliseconds(400))
        #expect(receiver.receive(timeout: .milliseconds(200)) == nil)
        notifier.alive(status: "due", now: start + .milliseconds(600))
        #expect(receiver.receive(timeout: .seconds(5)) == "WATCHDOG=1\nSTATUS=due")
        notifier.stopping(status: "stopping")
        #expect(receiver.receive(timeout: .seconds(5)) == "STOPPING=1\nSTATUS=stopping")
    }

    @Test func withoutAWatchdogOnlyTheStatusIsSent() throws {
        let folder = try TemporaryFolder("notify")
        let receiver = try NotifySocketReceiver(path: folder.path("notify.sock"))
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path], waitsForListener: false))
        #expect(notifier.heartbeat(statusInterval: .seconds(7)).interval == .seconds(7))
        notifier.heartbeat().beat(.polled(summary: "ok"))
        #expect(receiver.receive(timeout: .seconds(5)) == "READY=1\nSTATUS=ok")
        #expect(receiver.receive(timeout: .seconds(5)) == "STATUS=ok")
        notifier.heartbeat().beat(.progressed(summary: "checking drift"))
        #expect(receiver.receive(timeout: .seconds(5)) == "STATUS=checking drift")
        notifier.heartbeat().beat(.stopping(summary: "stopping"))
        #expect(receiver.receive(timeout: .seconds(5)) == "STOPPING=1\nSTATUS=stopping")
    }

    @Test func theSummarySaysHealthPollAgeEnvironmentsAndTheLastError() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let health = Controller.Health(status: "degraded", lastPoll: now.addingTimeInterval(-12.7), lastError: "unreachable",
                                       environments: ["prod": "converged", "staging": "halted", "qa": "converged"])
        #expect(health.summary(now: now) == "degraded; polled 12s ago; 3 environments: 2 converged, 1 halted; last error: unreachable")
        let fresh = Controller.Health(status: "ok", lastPoll: nil, lastError: nil, environments: [:])
        #expect(fresh.summary(now: now) == "ok; not polled yet; no environments")
    }
}
