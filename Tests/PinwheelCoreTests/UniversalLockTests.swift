import Foundation
import Testing
@testable import PinwheelCore

/// Real lock files written by `uv pip compile --universal` (Fixtures/, from Fixtures/service.in), which pin a package
/// twice under markers that exclude each other.
@Suite("Universal requirements files")
struct UniversalLockTests {
    static func fixture(_ name: String) throws -> String {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        return try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    private func parse(_ text: String) -> (pins: [Pin], diagnostics: [Diagnostic]) {
        let log = DiagnosticLog()
        let pins = RequirementsParser(path: "A.txt", log: log).parse(text)
        return (pins, log.diagnostics)
    }

    /// The test environment with slot files and interpreters of its own.
    static func environment(a: String, b: String, pythonA: String = "/usr/bin/python3", pythonB: String = "/usr/bin/python3",
                            active: Slot = .a) throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment
            .replacingOccurrences(of: "  A: A.txt\n  B: B.txt\n", with: "  A: {pins: A.txt, python: \(pythonA)}\n  B: {pins: B.txt, python: \(pythonB)}\n")
            .replacingOccurrences(of: "active: A\n", with: "active: \(active)\n")
        files[Fixture.slotAPath] = a
        files[Fixture.slotBPath] = b
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func uvUniversalOutputIsAccepted() throws {
        let result = parse(try Self.fixture("universal.txt"))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let slot = SlotPins(file: "A.txt", pins: result.pins)
        #expect(slot.alternatives(named: "Django").map(\.description) == ["django==5.2.20", "django==6.1.3"])
        #expect(slot.alternatives(named: "django").map(\.marker) == ["python_full_version < '3.12'", "python_full_version >= '3.12'"])
        #expect(Set(result.pins.map(\.normalizedName)) == ["asgiref", "django", "gunicorn", "sqlparse", "typing-extensions", "tzdata"])
        // The host gets the lines as written: pip and uv evaluate the markers there.
        #expect(slot.requirementsText.contains("django==5.2.20 ; python_full_version < '3.12'\ndjango==6.1.3 ; python_full_version >= '3.12'\n"))
    }

    @Test func hashedUniversalOutputKeepsEveryHash() throws {
        let result = parse(try Self.fixture("universal-hashed.txt"))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.pins.count == 8)
        #expect(result.pins.allSatisfy { $0.hashes.count == 2 && $0.hashes.allSatisfy { $0.hasPrefix("sha256:") } })
        let django = result.pins.filter { $0.normalizedName == "django" }
        #expect(django.map(\.requirement).allSatisfy { $0.contains(" ; python_full_version ") && $0.contains(" --hash=sha256:") })
    }

    @Test func pinsThatCanApplyTogetherAreRefusedWithTheEnvironmentWhereTheyDo() throws {
        let result = parse("django==5.2.20 ; python_full_version >= '3.10'\ndjango==6.1.3 ; python_full_version >= '3.12'\n")
        let error = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(error.location == SourceLocation(path: "A.txt", line: 2, column: 1))
        #expect(error.message.contains("pinned twice for the same environments"))
        #expect(error.hint?.contains("line 1") == true && error.hint?.contains("python_full_version 3.12") == true)
        // One pin without a marker applies everywhere, so any second pin overlaps it.
        #expect(parse("django==5.2.20\ndjango==6.1.3 ; sys_platform == 'win32'\n").diagnostics.count == 1)
        // Three alternatives: the third is checked against both others.
        #expect(parse("""
            x==1 ; python_version < '3.11'
            x==2 ; python_version >= '3.11' and python_version < '3.13'
            x==3 ; python_version >= '3.12'
            """).diagnostics.map(\.location.line) == [3])
    }

    @Test func aBadMarkerIsReportedAtItsColumn() throws {
        let result = parse("click==8.1.7\ndjango==5.2.20 ;  python_verion < '3.12'\n")
        let error = try #require(result.diagnostics.first)
        #expect(error.location == SourceLocation(path: "A.txt", line: 2, column: 19))
        #expect(error.message.contains("`python_verion` is not a marker variable"))
        let continued = parse("django==5.2.20 ; python_version < \\\n    '3.12\n")
        #expect(continued.diagnostics.first?.location == SourceLocation(path: "A.txt", line: 2, column: 5))
        #expect(parse("django==5.2.20 ;\n").diagnostics.first?.message.contains("empty") == true)
    }

    @Test func showSaysWhichPinASlotWhosePythonIsKnownGets() throws {
        let lock = try Self.fixture("universal.txt")
        let environment = try Self.environment(a: lock, b: lock, pythonB: "/usr/bin/python3.12")
        #expect(environment.slots.b.pins(for: environment.markerFacts(of: .b)).filter { $0.normalizedName == "django" }.map(\.version) == ["6.1.3"])
        #expect(environment.slots.a.pins(for: environment.markerFacts(of: .a)).filter { $0.normalizedName == "django" }.map(\.version)
                == ["5.2.20", "6.1.3"])
        let summary = environment.summary
        let slotB = try #require(summary.components(separatedBy: "slot B (").last)
        #expect(slotB.contains("django==6.1.3 ; python_full_version >= '3.12'"))
        #expect(slotB.contains("not installed on these hosts (python 3.12, Linux): asgiref==3.12.1 ; python_full_version < '3.11', django==5.2.20"))
        #expect(slotB.contains("tzdata==2026.6 ; sys_platform == 'win32'"))
        let slotA = try #require(summary.components(separatedBy: "slot B (").first?.components(separatedBy: "slot A (").last)
        #expect(slotA.contains("    django==5.2.20 ; python_full_version < '3.12'\n    django==6.1.3 ; python_full_version >= '3.12'"))
        #expect(slotA.contains("/usr/bin/python3 names no version, so the hosts' pip picks among the pins of asgiref, django by their markers"))
    }

    @Test func diffNamesTheAlternativeThatChangedAndWhetherTheSlotInstallsIt() throws {
        let lock = try Self.fixture("universal.txt")
        let before = try Self.environment(a: lock, b: lock, pythonB: "/usr/bin/python3.12")
        let newer = lock.replacingOccurrences(of: "django==6.1.3", with: "django==6.1.4")
        #expect(EnvironmentDiff.changes(from: before, to: try Self.environment(a: lock, b: newer, pythonB: "/usr/bin/python3.12"))
                == ["slot B: django 6.1.3 → 6.1.4 ; python_full_version >= '3.12'"])
        let older = lock.replacingOccurrences(of: "django==5.2.20", with: "django==5.2.21")
        #expect(EnvironmentDiff.changes(from: before, to: try Self.environment(a: lock, b: older, pythonB: "/usr/bin/python3.12"))
                == ["slot B: django 5.2.20 → 5.2.21 ; python_full_version < '3.12' (not installed here: python 3.12)"])
        // A single pin becoming two is a removal and two additions.
        let single = "django==5.2.20\nsqlparse==0.6.1\nasgiref==3.13.0\n"
        let split = "django==5.2.20 ; python_full_version < '3.12'\ndjango==6.1.3 ; python_full_version >= '3.12'\nsqlparse==0.6.1\nasgiref==3.13.0\n"
        #expect(EnvironmentDiff.changes(from: try Self.environment(a: single, b: single), to: try Self.environment(a: single, b: split))
                == ["slot B: +django 5.2.20 ; python_full_version < '3.12', +django 6.1.3 ; python_full_version >= '3.12', -django 5.2.20"])
    }

    @Test func releaseEditsThePinTheIdleSlotsPythonGets() throws {
        let lock = try Self.fixture("universal.txt")
        let environment = try Self.environment(a: lock, b: lock, pythonB: "/usr/bin/python3.12")
        let plan = try ReleasePlan.make(environment: environment, environmentText: "active: A\n",
                                        changes: [.init(name: "django", version: "6.1.4")])
        #expect(plan.pins.filter { $0.normalizedName == "django" }.map(\.version) == ["5.2.20", "6.1.4"])
        #expect(plan.warnings.contains { $0.contains("only django's pin for slot B's python 3.12") && $0.contains("regenerate the lock") })
        let written = try #require(plan.files[Fixture.slotBPath])
        #expect(written.contains("django==6.1.4 ; python_full_version >= '3.12'\n"))
        #expect(written.contains("django==5.2.20 ; python_full_version < '3.12'\n"))
        // What release writes reads back as a valid universal file.
        #expect(parse(written).diagnostics.isEmpty)
    }

    @Test func releaseRefusesToGuessWhenTheIdleSlotsPythonIsUnknown() throws {
        let lock = try Self.fixture("universal.txt")
        let environment = try Self.environment(a: lock, b: lock)
        #expect {
            try ReleasePlan.make(environment: environment, environmentText: "active: A\n", changes: [.init(name: "django", version: "6.1.4")])
        } throws: { error in
            "\(error)".contains("pinned under several markers") && "\(error)".contains("regenerate the lock")
        }
        // A package pinned once is released as before, in the same file.
        let plan = try ReleasePlan.make(environment: environment, environmentText: "active: A\n", changes: [.init(name: "gunicorn", version: "27.0.2")])
        #expect(plan.pins.first { $0.normalizedName == "gunicorn" }?.version == "27.0.2")
        #expect(plan.pins.count == 8)
    }

    @Test func promotionCopiesEveryAlternativeAndNamesOnlyWhatChanged() throws {
        let lock = try Self.fixture("universal.txt")
        let prod = try Self.environment(a: lock, b: lock)
        var staging = try Self.environment(a: lock, b: lock.replacingOccurrences(of: "django==6.1.3", with: "django==6.1.4"))
        staging.name = "staging"
        staging.active = .b
        let plan = try ReleasePlan.promote(prod, environmentText: "active: A\n", from: staging)
        #expect(plan.changes == [ReleasePlan.Change(name: "django", version: "6.1.4")])
        let written = try #require(plan.files[Fixture.slotBPath])
        #expect(written.contains("django==5.2.20 ; python_full_version < '3.12'\ndjango==6.1.4 ; python_full_version >= '3.12'\n"))
    }

    @Test func manyAlternativesAreCheckedInBoundedTime() throws {
        // 50 packages, each pinned under 16 markers that exclude each other: accepted.
        var text = ""
        for package in 0..<50 {
            for machine in 0..<16 {
                text += "p\(package)==1.0.\(machine) ; platform_machine == 'm\(machine)' and sys_platform == 's\(machine)'\n"
            }
        }
        let many = parse(text)
        #expect(many.diagnostics.isEmpty, "\(many.diagnostics.prefix(3))")
        #expect(many.pins.count == 800)
        // A 17th pin of one package is refused before any check.
        text += "p0==2.0 ; platform_machine == 'm99'\n"
        let refused = parse(text)
        #expect(refused.diagnostics.map(\.location.line) == [801])
        #expect(refused.diagnostics.first?.message.contains("pinned more than 16 times") == true)
        // Past the file's budget of environments to try, pins are refused rather than checked for ever.
        var costly = ""
        for package in 0..<120 {
            for machine in 0..<16 {
                costly += "p\(package)==1.0.\(machine) ; platform_machine == 'm\(machine)' and sys_platform == 's\(machine)'\n"
            }
        }
        #expect(parse(costly).diagnostics.contains { $0.message.contains("too complex") })
    }

    @Test func mutatedLockFilesNeverCrashTheParser() throws {
        let lock = Array(try Self.fixture("universal-hashed.txt"))
        var mutation = TextMutation(seed: 508, alphabet: [";", "'", "\"", "(", ")", "\\", "\n", "#", " ", "=", "<", "[", "@", "-", "é"],
                                    edits: 1...6)
        for _ in 0..<300 {
            let result = parse(mutation.mutate(lock))
            // Every error points into the file.
            #expect(result.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.line <= 40 && $0.location.column >= 1 })
        }
    }
}
