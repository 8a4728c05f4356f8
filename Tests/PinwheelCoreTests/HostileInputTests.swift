import Foundation
import Testing
@testable import PinwheelCore

/// Input an attacker (or an accident) can commit: every one ends in a clear report, in bounded time and memory.
@Suite("Hostile input")
struct HostileInputTests {
    func load(_ edit: (inout InMemorySource) -> Void) throws -> ConfigReport {
        var source = InMemorySource(Fixture.files)
        edit(&source)
        return try ConfigLoader(source: source).load(["prod"])
    }

    @Test func aYAMLAliasBombIsRefusedQuickly() throws {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            lines.append("a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]")
        }
        let bomb = lines.joined(separator: "\n") + "\nlaughs: [*a9, *a9, *a9]\n"
        let started = ContinuousClock.now
        let report = try load { $0.files[Fixture.environmentPath] = Data((Fixture.environment + bomb).utf8) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(report.hasErrors)
        #expect(report.diagnostics.contains { $0.message.contains("YAML nodes") && $0.hint?.contains("alias") == true },
                "\(report.diagnostics.prefix(3))")
    }

    @Test func aHugeFileIsRefusedBeforeItIsParsed() throws {
        let line = "# " + String(repeating: "x", count: 1000) + "\n"
        let huge = Fixture.environment + String(repeating: line, count: 50_000)
        let started = ContinuousClock.now
        let report = try load { $0.files[Fixture.environmentPath] = Data(huge.utf8) }
        #expect(ContinuousClock.now - started < .seconds(5))
        let diagnostic = try #require(report.diagnostics.first { $0.location.path == Fixture.environmentPath })
        #expect(diagnostic.message.contains("larger than"), "\(diagnostic)")
        #expect(diagnostic.location.line == 1)
    }

    @Test func aHugeSlotFileIsRefused() throws {
        let huge = String(repeating: "hello-service==1.0.0 # padding padding padding padding padding padding\n", count: 100_000)
        let report = try load { $0.files[Fixture.slotAPath] = Data(huge.utf8) }
        #expect(report.diagnostics.contains { $0.location.path == Fixture.slotAPath && $0.message.contains("larger than") },
                "\(report.diagnostics.prefix(3))")
    }

    @Test(arguments: [Fixture.environmentPath, Fixture.policyPath, Fixture.slotAPath])
    func invalidUTF8IsAClearError(_ path: String) throws {
        let report = try load { $0.files[path] = Data([0x61, 0x3A, 0x20, 0xFF, 0xFE, 0xC0, 0x0A]) }
        let diagnostic = try #require(report.diagnostics.first { $0.location.path == path }, "\(report.diagnostics)")
        #expect(diagnostic.message.contains("UTF-8"), "\(diagnostic)")
    }
}
