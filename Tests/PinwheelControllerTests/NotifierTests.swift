import Foundation
import Logging
import MetricsTestKit
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// The notification queue, its retries and backoff, and the payloads: pure, with an injected POST and sleep.
@Suite("Notifier")
struct NotifierTests {
    static let hook = URL(string: "https://hooks.example.com/services/T000/B000/SECRETTOKEN")!
    static let target = NotifyTarget(format: .webhook, url: .environment("HOOK_URL"))

    /// What the injected POST and sleep saw.
    actor Wire {
        var answers: [Int]
        private(set) var bodies: [[UInt8]] = []
        private(set) var sleeps: [Duration] = []

        init(answers: [Int]) {
            self.answers = answers
        }

        func post(_ body: [UInt8]) -> Int {
            bodies.append(body)
            return answers.isEmpty ? 200 : answers.removeFirst()
        }

        func slept(_ duration: Duration) {
            sleeps.append(duration)
        }
    }

    func notifier(_ wire: Wire, metrics: TestMetrics, logs: CapturedLogs, capacity: Int = 100,
                  post: Notifier.Post? = nil) -> Notifier {
        Notifier(logger: logs.logger(), metrics: ControllerMetrics(factory: metrics),
                 retry: RetryPolicy(attempts: 4, initial: .seconds(1), maximum: .seconds(30)), capacity: capacity,
                 post: post ?? { _, body in await wire.post(body) },
                 sleep: { await wire.slept($0) },
                 readURL: { _ in Self.hook })
    }

    static func event(_ kind: NotificationKind = .converged, commit: String = String(repeating: "a", count: 40)) -> NotificationEvent {
        NotificationEvent(event: kind, environment: "production", commit: commit, result: "converged",
                          title: "production: converged at aaaaaaa", time: "2026-11-24T00:00:00Z")
    }

    @Test func aQueueDropsItsOldestWhenFull() {
        var queue = DeliveryQueue<Int>(capacity: 3)
        #expect(queue.push(1) == nil)
        #expect(queue.push(2) == nil)
        #expect(queue.push(3) == nil)
        #expect(queue.push(4) == 1)
        #expect(queue.pop() == 2)
        #expect(queue.push(5) == nil)
        #expect(queue.push(6) == 3)
        #expect([queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [4, 5, 6, nil])
        #expect(queue.isEmpty)
        for value in 0..<1000 { _ = queue.push(value) }
        #expect(queue.count == 3)
        #expect(queue.pop() == 997)
    }

    @Test func backoffDoublesUpToItsMaximumAndStops() {
        let policy = RetryPolicy(attempts: 7, initial: .seconds(1), maximum: .seconds(10))
        #expect((1...7).map { policy.delay(after: $0) } == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10), nil])
        #expect(RetryPolicy(attempts: 1).delay(after: 1) == nil)
        #expect(RetryPolicy.verdict(status: 204) == .delivered)
        #expect(RetryPolicy.verdict(status: 500) == .retry("HTTP 500"))
        #expect(RetryPolicy.verdict(status: 429) == .retry("HTTP 429"))
        #expect(RetryPolicy.verdict(status: 404) == .failed("HTTP 404"))
    }

    @Test func aReceiverThatFailsTwiceGetsTheEventOnceWithBackoff() async throws {
        let wire = Wire(answers: [500, 503, 200])
        let metrics = TestMetrics()
        let logs = CapturedLogs()
        let notifier = notifier(wire, metrics: metrics, logs: logs)
        notifier.send(Self.event(), to: [Self.target])
        #expect(await notifier.settle(timeout: .seconds(10)))
        #expect(await wire.bodies.count == 3)
        #expect(await wire.sleeps == [.seconds(1), .seconds(2)])
        #expect(metrics.counterTotal(label: "pinwheel_notifications_total") == 3)
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "delivered"), ("type", "webhook")]).totalValue == 1)
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "retried"), ("type", "webhook")]).totalValue == 2)
        let warnings = logs.events(.notificationRetrying)
        #expect(warnings.map { $0.metadata["error"] } == ["HTTP 500", "HTTP 503"])
        #expect(warnings.first?.metadata["receiver"] == "https://hooks.example.com")
        #expect(!logs.all.contains { "\($0.message) \($0.metadata)".contains("SECRETTOKEN") }, "the URL's secret part is never logged")
    }

    @Test func aReceiverThatKeepsFailingIsGivenUpOnAndARefusalIsNotRetried() async throws {
        let wire = Wire(answers: [500, 500, 500, 500, 404])
        let metrics = TestMetrics()
        let logs = CapturedLogs()
        let notifier = notifier(wire, metrics: metrics, logs: logs)
        notifier.send(Self.event(.halted), to: [Self.target])
        notifier.send(Self.event(.reverted), to: [Self.target])
        #expect(await notifier.settle(timeout: .seconds(10)))
        #expect(await wire.bodies.count == 5)
        #expect(await wire.sleeps == [.seconds(1), .seconds(2), .seconds(4)])
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "failed"), ("type", "webhook")]).totalValue == 2)
        #expect(logs.events(.notificationFailed).contains { $0.metadata["attempt"] == "4" })
        #expect(logs.events(.notificationRefused).contains { $0.metadata["error"] == "HTTP 404" })
    }

    @Test func aFullQueueDropsTheOldestAndCountsIt() async throws {
        let wire = Wire(answers: [])
        let metrics = TestMetrics()
        let logs = CapturedLogs()
        let gate = Gate()
        let notifier = notifier(wire, metrics: metrics, logs: logs, capacity: 2, post: { _, body in
            await gate.arrive()
            return await wire.post(body)
        })
        notifier.send(Self.event(commit: "1"), to: [Self.target])
        await gate.waitForArrival()
        // The first is being delivered; three more into a queue of two: the oldest waiting one is dropped.
        for commit in ["2", "3", "4"] { notifier.send(Self.event(commit: commit), to: [Self.target]) }
        #expect(notifier.pending == 2)
        await gate.open()
        #expect(await notifier.settle(timeout: .seconds(10)))
        let commits = try await wire.bodies.map { try JSONDecoder().decode(NotificationEvent.self, from: Data($0)).commit }
        #expect(commits == ["1", "3", "4"])
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "dropped"), ("type", "webhook")]).totalValue == 1)
    }

    @Test func anEventSentOnceIsNotRepeatedAndTargetsGetOnlyTheirKinds() async throws {
        let wire = Wire(answers: [])
        let notifier = notifier(wire, metrics: TestMetrics(), logs: CapturedLogs())
        let onlyHalts = NotifyTarget(format: .slack, url: .file("/etc/pinwheel/slack"), events: [.halted])
        for _ in 0..<3 { notifier.send(Self.event(.waiting), to: [Self.target, onlyHalts], once: "waiting a") }
        notifier.send(Self.event(.halted), to: [Self.target, onlyHalts])
        notifier.send(Self.event(.waiting), to: [Self.target, onlyHalts], once: "waiting a")
        #expect(await notifier.settle(timeout: .seconds(10)))
        let bodies = await wire.bodies.map { String(decoding: $0, as: UTF8.self) }
        #expect(bodies.filter { $0.contains(#""event":"waiting""#) }.count == 2, "once per run of the same key")
        #expect(bodies.filter { $0.hasPrefix(#"{"blocks""#) }.count == 1, "the Slack target only gets the halt")
        #expect(bodies.count == 4)
    }

    @Test func anUnreadableURLIsLoggedByWhereItShouldBe() async throws {
        let metrics = TestMetrics()
        let logs = CapturedLogs()
        let notifier = Notifier(logger: logs.logger(), metrics: ControllerMetrics(factory: metrics),
                                post: { _, _ in Issue.record("posted without a URL"); return 200 },
                                readURL: { try NotificationURL.read($0, environment: [:]) })
        notifier.send(Self.event(), to: [Self.target])
        #expect(await notifier.settle(timeout: .seconds(10)))
        let line = try #require(logs.events(.notificationFailed).first)
        #expect(line.metadata["error"] == "env HOOK_URL is not set in the controller's environment")
        #expect(line.metadata["target"] == "webhook (env HOOK_URL)")
        #expect(try metrics.expectCounter("pinwheel_notifications_total", [("result", "failed"), ("type", "webhook")]).totalValue == 1)
    }

    @Test func urlsAreReadFromTheEnvironmentOrTheFirstLineOfAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("slack-url").path
        try "https://hooks.slack.com/services/T/B/SECRET\n# rotated 2026-11\n".write(toFile: file, atomically: false, encoding: .utf8)
        let empty = directory.appendingPathComponent("empty").path
        try "".write(toFile: empty, atomically: false, encoding: .utf8)
        #expect(try NotificationURL.read(.file(file)).absoluteString == "https://hooks.slack.com/services/T/B/SECRET")
        #expect(try NotificationURL.read(.environment("U"), environment: ["U": "http://127.0.0.1:9/x"]).port == 9)
        for (location, environment) in [(NotifyTarget.SecretLocation.environment("U"), ["U": "ftp://secret@host/x"]),
                                        (.environment("U"), ["U": "not a url SECRET"]),
                                        (.file(directory.appendingPathComponent("missing").path), [:]),
                                        (.file("/dev/zero"), [:]), (.file(directory.path), [:]), (.file(empty), [:])] {
            do {
                _ = try NotificationURL.read(location, environment: environment)
                Issue.record("\(location) was accepted")
            } catch {
                #expect(error.description.hasPrefix("\(location)"))
                #expect(!error.description.contains("secret") && !error.description.contains("SECRET"))
            }
        }
        #expect(NotificationURL.origin(of: URL(string: "https://user:pw@hooks.example.com:8443/T/B/SECRET?token=x")!)
            == "https://hooks.example.com:8443")
    }

    /// A halt, described as the controller describes it: the commit's summary and author, the status page.
    static func halt(summary: String, author: String) -> NotificationEvent {
        var event = NotificationEvent(.halted, status: status(), time: "2026-11-24T00:00:00Z")
        event.summary = summary
        event.author = .init(name: author, email: "jane@example.com")
        event.link = "http://127.0.0.1:9420/#production"
        return event
    }

    @Test func theWebhookPayloadFollowsItsSchema() throws {
        let event = Self.halt(summary: "release hello-service 1.1.0", author: "Jane Doe")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.webhookBody())) as? [String: Any])
        #expect(object["schema"] as? String == "pinwheel.notification/v1")
        #expect(object["event"] as? String == "halted")
        #expect(object["environment"] as? String == "production")
        #expect(object["commit"] as? String == String(repeating: "c", count: 40))
        #expect(object["result"] as? String == "halted")
        #expect(object["message"] as? String == "web-02 failed: check B")
        #expect(object["link"] as? String == "http://127.0.0.1:9420/#production")
        #expect((object["author"] as? [String: String])?["name"] == "Jane Doe")
        let hosts = try #require(object["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["name"] as? String } == ["web-01", "web-02"])
        #expect(hosts[0]["pins"] as? [String] == ["hello-service==1.1.0"])
        #expect(hosts[1]["error"] as? String == "check B: <not healthy> & down")
        #expect(object["revert"] == nil, "absent fields are left out")
        #expect(try JSONDecoder().decode(NotificationEvent.self, from: Data(event.webhookBody())) == event)
    }

    @Test func theSlackPayloadHasTextAndEscapedBlocks() throws {
        let event = Self.halt(summary: "release <!channel> & more", author: "Jane <Doe>")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.slackBody())) as? [String: Any])
        let text = try #require(object["text"] as? String)
        #expect(text.hasPrefix("production: halted — production: halted at ccccccc"))
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["section", "context"])
        let section = try #require((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        #expect(section.hasPrefix(":x: *production: halted at ccccccc"))
        #expect(section.contains("• web-02: check B: &lt;not healthy&gt; &amp; down"))
        let context = try #require(((blocks[1]["elements"] as? [[String: Any]])?.first)?["text"] as? String)
        #expect(context == "`ccccccc` release &lt;!channel&gt; &amp; more by Jane &lt;Doe&gt; · <http://127.0.0.1:9420/#production|status page>")
    }

    static func status() -> EnvironmentStatus {
        EnvironmentStatus(
            environment: "production", desired: String(repeating: "c", count: 40), result: .halted,
            message: "web-02 failed: check B", time: "2026-11-24T00:00:00Z", active: .b, pins: ["hello-service==1.1.0"],
            hosts: [
                "web-01": .init(serving: .b, slots: ["A": ["hello-service==1.0.0"], "B": ["hello-service==1.1.0"]], healthy: true),
                "web-02": .init(serving: .a, slots: ["A": ["hello-service==1.0.0"]], healthy: false, error: "check B: <not healthy> & down"),
            ])
    }
}

/// Holds a POST until the test opens it.
actor Gate {
    private var arrived = false
    private var isOpen = false
    private var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
    private var openWaiters: [CheckedContinuation<Void, Never>] = []

    func arrive() async {
        arrived = true
        arrivalWaiters.forEach { $0.resume() }
        arrivalWaiters = []
        if !isOpen { await withCheckedContinuation { openWaiters.append($0) } }
    }

    func waitForArrival() async {
        if !arrived { await withCheckedContinuation { arrivalWaiters.append($0) } }
    }

    func open() {
        isOpen = true
        openWaiters.forEach { $0.resume() }
        openWaiters = []
    }
}
