import Foundation
import Logging
import MetricsTestKit
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// What a compromised host can put in its reply reaches JSON logs and Slack bounded and escaped, and the
/// controller's secrets never reach a notification.
@Suite("Untrusted text in logs and notifications", .tags(.security))
struct UntrustedTextOutputTests {
    /// A host error as a compromised host would write it: terminal escapes, a carriage return that hides the start
    /// of the line, a bidi override, a NUL, a fake log line, and a megabyte of filler.
    static let hostile = "\u{1B}[2J\u{1B}[31mpwned\rfake\u{202E}gnp.exe\u{0}\n{\"level\":\"info\",\"msg\":\"forged\"}"
        + String(repeating: "A", count: 1 << 20)

    static func haltedEvent() -> NotificationEvent {
        var event = NotificationEvent(event: .halted, environment: "production", commit: String(repeating: "c", count: 40),
                                      result: "halted", title: "production: halted \(hostile)", message: hostile,
                                      hosts: (0..<30).map { .init(name: "web-\($0)\u{1B}[1m", healthy: false, error: hostile) },
                                      time: "2026-12-06T00:00:00Z")
        event.summary = hostile
        event.author = .init(name: hostile, email: "mallory@example.com")
        event.link = "http://127.0.0.1:9420/#production"
        return event
    }

    @Test func aSlackPayloadFromAHostileHostIsWithinSlacksLimitsAndEscaped() throws {
        let body = Self.haltedEvent().slackBody()
        // Delivered: every text within Slack's limits (section 3,000, the message text 4,000).
        #expect(body.count < 32 << 10, "\(body.count) bytes")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let text = try #require(object["text"] as? String)
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        let section = try #require((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        let context = try #require(((blocks[1]["elements"] as? [[String: Any]])?.first)?["text"] as? String)
        #expect(text.utf16.count <= 4000)
        #expect(section.utf16.count <= 3000)
        #expect(context.utf16.count <= 2000)
        for part in [text, section, context] {
            #expect(!part.unicodeScalars.contains { UntrustedText.isControl($0) && $0 != "\n" }, "\(part.prefix(80))")
            #expect(!part.contains("\u{1B}"))
            #expect(!part.contains("\u{202E}"))
        }
        #expect(section.contains("\\u{1B}[31mpwned\\rfake\\u{202E}gnp.exe\\u{00}"))
        #expect(section.contains("… [cut:"))
        #expect(section.hasPrefix(":x: *production: halted"))
        // The link to the page survives the cut of everything before it.
        #expect(context.hasSuffix("<http://127.0.0.1:9420/#production|status page>"))
    }

    @Test func aJSONLogLineFromAHostileHostIsOneBoundedLineWithoutControls() throws {
        let line = JSONLogHandler.line(time: Date(timeIntervalSince1970: 0), level: .error, message: "step failed",
                                       metadata: ["host": "web-01", "error": Self.hostile])
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(!line.unicodeScalars.contains { UntrustedText.isControl($0) })
        #expect(line.utf8.count < UntrustedText.logFieldLimit * 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        let error = try #require(object["error"])
        // Decoded, the value is the host's text (escapes undone by the JSON parser), bounded.
        #expect(error.hasPrefix("\u{1B}[2J\u{1B}[31mpwned\rfake\u{202E}"))
        #expect(error.utf16.count <= UntrustedText.logFieldLimit)
        #expect(line.contains(#"\u202e"#))
    }

    @Test func theControllersSecretsNeverReachANotification() async throws {
        let secret = "whsec_9b1f2e3d4c5a"
        let bodies = Bodies()
        let notifier = Notifier(logger: CapturedLogs().logger(), metrics: ControllerMetrics(factory: TestMetrics()),
                                post: { _, body in await bodies.add(body); return 200 },
                                readURL: { _ in URL(string: "https://hooks.example.com/x")! }, secrets: [secret])
        var event = NotificationEvent(event: .halted, environment: "production", commit: String(repeating: "d", count: 40),
                                      result: "halted", title: "production: halted", message: "gunicorn --secret \(secret) exited 1",
                                      hosts: [.init(name: "web-01", healthy: false, error: "SECRET=\(secret)")], time: "2026-12-06T00:00:00Z")
        event.summary = "release"
        notifier.send(event, to: [NotifyTarget(format: .slack, url: .environment("A")), NotifyTarget(format: .webhook, url: .environment("B"))])
        #expect(await notifier.settle(timeout: .seconds(10)))
        let sent = await bodies.all
        #expect(sent.count == 2)
        for body in sent {
            let text = String(decoding: body, as: UTF8.self)
            #expect(!text.contains(secret), "\(text)")
            #expect(text.contains("[redacted]"))
        }
    }

    actor Bodies {
        private(set) var all: [[UInt8]] = []
        func add(_ body: [UInt8]) { all.append(body) }
    }
}
