import Foundation
import Testing
@testable import PinwheelCore

/// PEP 751 slot files, from a real lock written by `uv pip compile --universal --format pylock.toml`
/// (Fixtures/pylock.service.toml, from Fixtures/service.in).
@Suite("pylock.toml slot files")
struct PylockTests {
    static var lock: String { get throws { try UniversalLockTests.fixture("pylock.service.toml") } }

    private func parse(_ text: String, python: String = "/usr/bin/python3") -> (pins: [Pin], diagnostics: [Diagnostic]) {
        let log = DiagnosticLog()
        let pins = PylockParser(path: "pylock.A.toml", log: log, facts: .linux(interpreter: python)).parse(text)
        return (pins, log.diagnostics)
    }

    /// The first error, which must exist.
    private func error(_ text: String, python: String = "/usr/bin/python3") throws -> Diagnostic {
        let result = parse(text, python: python)
        return try #require(result.diagnostics.first { $0.severity == .error }, "no error for the edited lock")
    }

    /// The 1-based line of the first line of `text` containing `needle`.
    private func line(of needle: String, in text: String) throws -> Int {
        let lines = text.components(separatedBy: "\n")
        return try #require(lines.firstIndex { $0.contains(needle) }) + 1
    }

    static func environment(a: String, b: String, pythonB: String = "/usr/bin/python3", idleFile: String = "pylock.B.toml") throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(
            of: "  A: A.txt\n  B: B.txt\n", with: "  A: pylock.A.toml\n  B: {pins: \(idleFile), python: \(pythonB)}\n")
        files["Environments/prod/pylock.A.toml"] = a
        files["Environments/prod/\(idleFile)"] = b
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func uvsLockIsValidAndGivesHashedPins() throws {
        let result = parse(try Self.lock)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.pins.count == 8)
        let django = result.pins.filter { $0.normalizedName == "django" }
        #expect(django.map(\.version) == ["5.2.20", "6.1.3"])
        #expect(django.map(\.marker) == ["python_full_version >= '3.10' and python_full_version < '3.12'", "python_full_version >= '3.12'"])
        // The sdist's and the wheel's hashes, so pip and uv accept whichever file the index gives them.
        #expect(result.pins.allSatisfy { $0.hashes.count == 2 && $0.hashes.allSatisfy { $0.hasPrefix("sha256:") } })
        #expect(django[1].hashes.contains("sha256:a0530e3fdac55d34ccc5893c36f6c57d7a7083064f3d414537e51473648b3290"))
        // The same pins, and the same hashes, as the hashed requirements file uv writes from the same input.
        let log = DiagnosticLog()
        let requirements = RequirementsParser(path: "A.txt", log: log).parse(try UniversalLockTests.fixture("universal-hashed.txt"))
        #expect(Set(requirements.map { "\($0)" + $0.hashes.sorted().joined() }) == Set(result.pins.map { "\($0)" + $0.hashes.joined() }))
    }

    /// `pip lock -r service.in` (pip 26.3, on Python 3.11): one environment, `[[packages.wheels]]` tables.
    @Test func pipsLockIsValidAndAgreesWithUvsForItsPython() throws {
        let text = try UniversalLockTests.fixture("pylock.pip.toml")
        let result = parse(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.pins.map(\.description) == ["asgiref==3.13.0", "django==5.2.20", "gunicorn==27.0.1", "sqlparse==0.6.1"])
        // What uv's universal lock gives a Python 3.11 host, file for file (pip locked the wheels only).
        let python311 = SlotPins(file: "pylock.toml", pins: parse(try Self.lock).pins).pins(for: .linux(interpreter: "/usr/bin/python3.11"))
        #expect(python311.map(\.description) == result.pins.map(\.description))
        for pin in result.pins {
            #expect(pin.hashes.count == 1 && python311.first { $0.description == pin.description }?.hashes.contains(pin.hashes[0]) == true)
        }
        // An error in a `[[packages.wheels]]` table is reported at its header.
        let noHash = text.replacingOccurrences(
            of: "[packages.wheels.hashes]\nsha256 = \"378b26b9a38adcf4592f28828233c1716acc55e833ea06bf48719782efaa0d10\"\n", with: "")
        let found = try error(noHash)
        #expect(found.message.contains("wheel 1 of `gunicorn` has no `hashes`"))
        let header = try line(of: "name = \"gunicorn-27.0.1-py3-none-any.whl\"", in: noHash) - 1
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: header, column: 1))
    }

    @Test func lockFileNamesAreThePEPs() {
        #expect(PylockParser.isLockFileName("pylock.toml"))
        #expect(PylockParser.isLockFileName("pylock.A.toml"))
        #expect(PylockParser.isLockFileName("pylock.prod-b.toml"))
        #expect(!PylockParser.isLockFileName("A.toml"))
        #expect(!PylockParser.isLockFileName("pylock.a.b.toml"))
        #expect(!PylockParser.isLockFileName("pylock..toml"))
        #expect(!PylockParser.isLockFileName("pylock.A.txt"))
    }

    @Test func anEnvironmentWithLockSlotsShowsDiffsAndRefusesToReleaseIntoALock() throws {
        let lock = try Self.lock
        let before = try Self.environment(a: lock, b: lock, pythonB: "/usr/bin/python3.12")
        #expect(before.slots.b.isPylock)
        #expect(before.slots.b.pins(for: before.markerFacts(of: .b)).filter { $0.normalizedName == "django" }.map(\.version) == ["6.1.3"])
        #expect(before.summary.contains("slot A (pylock.A.toml) [active]:"))
        #expect(before.summary.contains("    django==6.1.3 ; python_full_version >= '3.12'  (2 hashes)"))
        // A regenerated lock: django 6.1.4, with other files.
        let newer = lock.replacingOccurrences(of: "version = \"6.1.3\"", with: "version = \"6.1.4\"")
            .replacingOccurrences(of: "a0530e3fdac55d34", with: "b0530e3fdac55d34")
        let after = try Self.environment(a: lock, b: newer, pythonB: "/usr/bin/python3.12")
        #expect(EnvironmentDiff.changes(from: before, to: after) == ["slot B: django 6.1.3 → 6.1.4 ; python_full_version >= '3.12'"])
        #expect {
            try ReleasePlan.make(environment: before, environmentText: "active: A\n", changes: [.init(name: "gunicorn", version: "27.0.2")])
        } throws: { "\($0)".contains("PEP 751 lock (pylock.B.toml)") && "\($0)".contains("regenerate it") }
        // Into a requirements file, a release from a lock writes the lock's pins as requirements.
        let intoText = try Self.environment(a: lock, b: "gunicorn==27.0.1\n", idleFile: "B.txt")
        let plan = try ReleasePlan.make(environment: intoText, environmentText: "active: A\n", changes: [.init(name: "gunicorn", version: "27.0.2")])
        #expect(plan.files[Fixture.slotBPath]?.contains("gunicorn==27.0.2 ; python_full_version >= '3.10'\n") == true)
    }

    @Test func promotionIntoALockIsRefusedWithWhatToDo() throws {
        let lock = try Self.lock
        let target = try Self.environment(a: lock, b: lock)
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "  A: A.txt\n", with: "  A: pylock.A.toml\n")
        files["Environments/prod/pylock.A.toml"] = lock.replacingOccurrences(of: "version = \"27.0.1\"", with: "version = \"27.0.2\"")
        var source = try ConfigLoader(source: InMemorySource(files)).environment("prod")
        source.name = "staging"
        #expect {
            try ReleasePlan.promote(target, environmentText: "active: A\n", from: source)
        } throws: { "\($0)".contains("which pinwheel does not write") }
    }

    @Test func mistakesAreReportedAtTheirLineAndColumn() throws {
        let lock = try Self.lock
        var found = try error(lock.replacingOccurrences(of: "lock-version = \"1.0\"", with: "lock-version = \"2.0\""))
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: 3, column: 16))
        #expect(found.message.contains("lock-version 2.0 is not one Pinwheel reads"))

        found = try error(lock.replacingOccurrences(of: "lock-version = \"1.0\"\n", with: ""))
        #expect(found.message.contains("no `lock-version`"))

        found = try error(lock.replacingOccurrences(of: "lock-version = \"1.0\"", with: "lock-version = \"1.0"))
        #expect(found.location.line == 3)
        #expect(found.message.hasPrefix("not valid TOML"))

        found = try error(lock, python: "/usr/bin/python3.9")
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: 5, column: 19))
        #expect(found.message.contains("requires python >=3.10, and this slot's hosts run python 3.9"))

        let badMarker = lock.replacingOccurrences(of: "and python_full_version < '3.12'", with: "and python_fullversion < '3.12'")
        found = try error(badMarker)
        let markerLine = try line(of: "python_fullversion", in: badMarker)
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: markerLine,
                                                 column: "marker = \"python_full_version >= '3.10' and ".count + 1))
        #expect(found.message.contains("`python_fullversion` is not a marker variable"))

        let noHash = lock.replacingOccurrences(
            of: "hashes = { sha256 = \"f9596a2434512686473d50f96ff6207fbba49ae1a785dfac614df4aeb085674d\" }", with: "hashes = {}")
        found = try error(noHash)
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: try line(of: "asgiref-3.13.0-py3-none-any.whl", in: noHash),
                                                 column: "wheels = [".count + 1))
        #expect(found.message.contains("wheel 1 of `asgiref` has no `hashes`"))

        let vcs = lock + "\n[[packages]]\nname = \"tool\"\nvcs = { type = \"git\", url = \"https://example.com/tool.git\", commit-id = \"abc\" }\n"
        found = try error(vcs)
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: try line(of: "vcs = {", in: vcs), column: "vcs = ".count + 1))
        #expect(found.message.contains("locked to a VCS checkout"))

        let overlapping = lock.replacingOccurrences(of: "marker = \"python_full_version >= '3.12'\"", with: "marker = \"python_full_version >= '3.11'\"")
        found = try error(overlapping)
        #expect(found.message.contains("`django` is locked twice for the same environments"))
        #expect(found.hint?.contains("python_full_version 3.11") == true)
        #expect(found.location.line == (try line(of: "version = \"6.1.3\"", in: overlapping)) - 2)

        let noVersion = lock.replacingOccurrences(of: "version = \"0.6.1\"\n", with: "")
        found = try error(noVersion)
        #expect(found.message.contains("`sqlparse` has no `version`"))
        #expect(found.location.line == (try line(of: "name = \"sqlparse\"", in: noVersion)))

        let windows = lock.replacingOccurrences(of: "requires-python = \">=3.10\"", with: "environments = [\"sys_platform == 'win32'\"]")
        found = try error(windows)
        #expect(found.message.contains("only for environments") && found.location == SourceLocation(path: "pylock.A.toml", line: 5, column: 16))
        let badEnvironment = lock.replacingOccurrences(of: "requires-python = \">=3.10\"", with: "environments = [\"os_name == 'nt'\", \"sys_platfrom == 'x'\"]")
        found = try error(badEnvironment)
        #expect(found.location == SourceLocation(path: "pylock.A.toml", line: 5, column: "environments = [\"os_name == 'nt'\", \"".count + 1))

        let badSize = lock.replacingOccurrences(of: "size = 51200", with: "size = \"big\"")
        #expect(try error(badSize).message.contains("`size` of wheel 1 of `sqlparse` must be a whole number"))
    }

    @Test func aTOMLSlotFileMustBeNamedAsThePEPSays() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "  A: A.txt\n", with: "  A: A.toml\n")
        files["Environments/prod/A.toml"] = try Self.lock
        let report = try Fixture.load(files)
        let found = try #require(report.diagnostics.first)
        #expect(found.message.contains("not named as PEP 751 names lock files"))
        #expect(found.location == SourceLocation(path: Fixture.environmentPath, line: 7, column: 6))
    }

    @Test func mutatedLocksNeverCrashTheParser() throws {
        let lock = Array(try Self.lock)
        var mutation = TextMutation(seed: 751, alphabet: ["\"", "'", "[", "]", "{", "}", "=", "\n", "#", ",", " ", "\\", "é", "\u{0}"],
                                    edits: 1...5)
        for _ in 0..<200 {
            let result = parse(mutation.mutate(lock))
            #expect(result.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 })
            #expect(!result.pins.isEmpty || !result.diagnostics.isEmpty)
        }
    }
}
