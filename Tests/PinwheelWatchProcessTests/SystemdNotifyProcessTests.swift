import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel watch` under a stand-in for systemd: the test binds the datagram socket `$NOTIFY_SOCKET` names, as the
/// service manager does for a `Type=notify` unit with `WatchdogSec=`, and reads what the controller tells it.
@Suite("pinwheel watch speaks systemd's notify protocol", .serialized)
struct SystemdNotifyProcessTests {
    /// A config repository with no environments (nothing to roll out: only the loop is under test), the notify
    /// socket, and `watch` started with a one-second watchdog and a control server on a port the OS picks.
    struct Setup {
        let folder: TemporaryFolder
        let remote: ConfigRemote
        let receiver: NotifySocketReceiver
        let watcher: WatchProcess

        init() async throws {
            folder = try TemporaryFolder("sd-notify")
            let config = folder.path("config")
            try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
            try "A config repository with no environments yet.\n".write(toFile: "\(config)/README.md", atomically: true, encoding: .utf8)
            remote = try await ConfigRemote(from: config, in: folder.path)
            receiver = try NotifySocketReceiver(path: folder.path("notify.sock"))
            watcher = try WatchProcess(
                remote: remote.remote, allow: folder.path, cache: folder.path("cache"), log: folder.path("watch.log"),
                extra: ["--listen", "127.0.0.1:0"],
                environment: ["NOTIFY_SOCKET": receiver.path, "WATCHDOG_USEC": "1000000"])
        }

        func stop() async -> [String] {
            watcher.signal(SIGTERM)
            let messages = await receiver.collect(for: .seconds(3))
            watcher.process.waitUntilExit()
            return messages
        }
    }

    @Test func readyThenWatchdogPingsWithAStatusThenStoppingOnSIGTERM() async throws {
        let setup = try await Setup()
        let ready = await setup.receiver.next(containing: "READY=1", timeout: .seconds(60))
        #expect(ready?.contains("STATUS=ok; polled") == true, "\(ready ?? "no READY=1")\n\(setup.watcher.text)")
        // WATCHDOG_USEC=1s: the loop polls every 200 ms and beats after each poll and each half-second wait. The
        // spacing of the pings (at least a quarter second) is SystemdNotifyTests' to prove, with a clock of its own;
        // here, in a process on a loaded machine, the pings keep coming and never outnumber the loop's beats.
        let started = ContinuousClock.now
        let pings = await setup.receiver.collect(for: .seconds(3)).filter { $0.hasPrefix("WATCHDOG=1\n") }
        let window = ContinuousClock.now - started
        let seconds = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
        #expect(pings.count >= 3 && Double(pings.count) <= seconds * 7 + 2, "\(pings.count) pings in \(window): \(pings)")
        #expect(pings.allSatisfy { $0.contains("\nSTATUS=ok; polled ") && $0.contains("no environments") }, "\(pings)")
        let last = await setup.stop()
        #expect(last.contains { $0.hasPrefix("STOPPING=1\nSTATUS=stopping") }, "\(last)")
        #expect(setup.watcher.process.terminationStatus == 0, "\(setup.watcher.text)")
    }

    @Test func aPollThatHangsStopsTheWatchdogPingsUntilItMovesAgain() async throws {
        let setup = try await Setup()
        #expect(await setup.receiver.next(containing: "READY=1", timeout: .seconds(60)) != nil, "\(setup.watcher.text)")
        #expect(await setup.receiver.next(containing: "WATCHDOG=1", timeout: .seconds(5)) != nil)

        // The remote's packed-refs becomes a FIFO nobody writes to: the next fetch blocks opening it, in the middle
        // of a poll, as a remote that never answers would hold it.
        let packedRefs = "\(setup.remote.remote)/packed-refs"
        try? FileManager.default.removeItem(atPath: packedRefs)
        #expect(mkfifo(packedRefs, 0o600) == 0)
        // A beat already under way may still arrive; after that, nothing while the poll hangs.
        _ = await setup.receiver.collect(for: .seconds(1))
        let whileStuck = await setup.receiver.collect(for: .seconds(4))
        #expect(!whileStuck.contains { $0.contains("WATCHDOG=1") }, "pings from a stuck loop: \(whileStuck)")

        // Let the fetch go on: a writer opens the FIFO (the reader's open returns), the FIFO goes away, and the
        // reader sees an empty file. The loop moves again, and so do the pings.
        let writer = open(packedRefs, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0, "the fetch was not blocked on the FIFO")
        unlink(packedRefs)
        if writer >= 0 { close(writer) }
        #expect(await setup.receiver.next(containing: "WATCHDOG=1", timeout: .seconds(10)) != nil, "\(setup.watcher.text)")
        let last = await setup.stop()
        #expect(last.contains { $0.hasPrefix("STOPPING=1") }, "\(last)")
    }
}
