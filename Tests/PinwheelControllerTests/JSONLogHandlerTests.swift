import Foundation
import Logging
import Synchronization
import Testing
@testable import PinwheelController

@Suite("watch --log-format json")
struct JSONLogHandlerTests {
    @Test func eachEventIsOneJSONObjectOnOneLine() throws {
        let time = Date(timeIntervalSince1970: 1_795_000_000.25)
        let line = JSONLogHandler.line(time: time, level: .warning, message: "host step failed\n\"quoted\"",
                                       metadata: ["host": "web-01", "msg": "clash", "error": "tab\there \u{1}"])
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["time"] == "2026-11-18T11:06:40.250Z")
        #expect(object["level"] == "warning")
        #expect(object["msg"] == "host step failed\n\"quoted\"")
        #expect(object["meta.msg"] == "clash")
        #expect(object["host"] == "web-01")
        #expect(object["error"] == "tab\there \u{1}")
        #expect(line.hasPrefix(#"{"time":"2026-11-18T11:06:40.250Z","level":"warning","msg":"#))
    }

    @Test func theHandlerWritesLinesWithItsMetadata() throws {
        let written = Mutex<[String]>([])
        var logger = Logger(label: "test") { label in JSONLogHandler(label: label) { line in written.withLock { $0.append(line) } } }
        logger[metadataKey: "env"] = "production"
        logger.info("status committed", metadata: ["status": "3f2a1c9"])
        logger.debug("not at info level")
        let lines = written.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.hasSuffix("\n") == true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
        #expect(object["msg"] == "status committed")
        #expect(object["env"] == "production")
        #expect(object["status"] == "3f2a1c9")
    }
}
