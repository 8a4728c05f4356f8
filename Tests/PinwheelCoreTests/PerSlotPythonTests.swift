import Testing
@testable import PinwheelCore

@Suite("Per-slot Python")
struct PerSlotPythonTests {
    static func environment(slots: String) throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "  A: A.txt\n  B: B.txt\n", with: slots)
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func aSlotMayNameItsOwnInterpreter() throws {
        let environment = try Self.environment(slots: "  A: A.txt\n  B: {pins: B.txt, python: /opt/python3.12/bin/python3}\n")
        #expect(environment.python(of: .a) == "/usr/bin/python3")
        #expect(environment.python(of: .b) == "/opt/python3.12/bin/python3")
        #expect(environment.slots.b.file == "B.txt")
        let host = environment.hosts[0]
        #expect(environment.slotSpec(.b, on: host).python == "/opt/python3.12/bin/python3")
        #expect(environment.summary.contains("slot B (B.txt, python /opt/python3.12/bin/python3)"))
    }

    @Test func theShortFormKeepsItsFingerprint() throws {
        let short = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let long = try Self.environment(slots: "  A: {pins: A.txt}\n  B: {pins: B.txt, python: /usr/bin/python3}\n")
        #expect(short.targets[0].slots == long.targets[0].slots)
    }

    @Test func anInterpreterChangeIsAReleaseAReviewerSees() throws {
        let before = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let after = try Self.environment(slots: "  A: A.txt\n  B: {pins: B.txt, python: /usr/bin/python3.12}\n")
        #expect(EnvironmentDiff.changes(from: before, to: after) == ["slot B python: /usr/bin/python3 → /usr/bin/python3.12"])
        #expect(before.targets[0].slots.a == after.targets[0].slots.a)
        #expect(before.targets[0].slots.b.fingerprint != after.targets[0].slots.b.fingerprint)
    }

    @Test func mistakesAreReportedWhereTheyAre() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(
            of: "  B: B.txt\n", with: "  B: {pins: B.txt, python: python3.12}\n")
        let report = try Fixture.load(files)
        let error = try #require(report.diagnostics.first)
        #expect(error.message.contains("`python` of slot `B` must be the absolute path"))
        #expect(error.location.line == 8)
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "  B: B.txt\n", with: "  B: {python: /usr/bin/python3}\n")
        #expect(try Fixture.load(files).diagnostics.first?.message.contains("missing the required key `pins`") == true)
    }
}
