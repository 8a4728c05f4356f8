import Testing
@testable import PinwheelCore

@Suite("PEP 508 markers")
struct MarkerTests {
    private func marker(_ text: String) throws -> Marker {
        try MarkerParser.parse(text).get()
    }

    private func failure(_ text: String) -> MarkerParser.Failure? {
        if case .failure(let failure) = MarkerParser.parse(text) { return failure }
        return nil
    }

    @Test func parsesWhatLockWritersWrite() throws {
        #expect(try marker("python_full_version < '3.12'") == .compare(.variable(.pythonFullVersion), .less, .literal("3.12")))
        let combined = try marker("python_full_version >= '3.10' and (sys_platform == \"win32\" or platform_machine in 'x86_64 aarch64')")
        #expect(combined.description == "python_full_version >= '3.10' and (sys_platform == 'win32' or platform_machine in 'x86_64 aarch64')")
        #expect(combined.variables == [.pythonFullVersion, .sysPlatform, .platformMachine])
        #expect(try marker("'linux' not in sys_platform") == .compare(.literal("linux"), .notIn, .variable(.sysPlatform)))
        // The dotted spellings of older tools mean the PEP 508 names.
        #expect(try marker("sys.platform=='linux'") == .compare(.variable(.sysPlatform), .equal, .literal("linux")))
        #expect(try marker("python_version>='3'") == .compare(.variable(.pythonVersion), .greaterOrEqual, .literal("3")))
        // Parentheses that change the grouping survive the canonical spelling.
        #expect(try marker("os_name == 'a' and (os_name == 'b' and os_name == 'c')").description
                == "os_name == 'a' and (os_name == 'b' and os_name == 'c')")
    }

    @Test("a bad marker says what and where", arguments: [
        ("python_verion < '3.12'", 0, "not a marker variable"),
        ("python_version < '3.12", 17, "not closed"),
        ("python_version = '3.12'", 15, "not a comparison"),
        ("python_version '3.12'", 15, "expected a comparison"),
        ("(python_version < '3.12'", 24, "expected `)`"),
        ("python_version < '3.12' and", 27, "expected a marker variable"),
        ("python_version < '3.12' '3'", 24, "after a complete marker"),
        ("python_version not '3'", 19, "expected `in` after `not`"),
        ("python_version < '3.12\u{7}'", 22, "not allowed in a marker's string"),
        ("python_version < 3.12", 17, "not allowed in a marker"),
        ("", 0, "expected a marker variable"),
    ])
    func failures(_ text: String, _ offset: Int, _ message: String) {
        let failure = self.failure(text)
        #expect(failure?.offset == offset, "\(String(describing: failure))")
        #expect(failure?.message.contains(message) == true, "\(String(describing: failure))")
    }

    @Test func deepNestingIsRefusedNotFollowed() {
        let text = String(repeating: "(", count: 5000) + "os_name == 'posix'" + String(repeating: ")", count: 5000)
        #expect(failure(text) != nil)
        #expect(failure(String(repeating: "(", count: 40) + "os_name == 'posix'" + String(repeating: ")", count: 40))?.message.contains("too deeply") == true)
    }

    @Test func comparesVersionsAsPEP440AndTextAsText() {
        #expect(Marker.compare("3.10", .greater, "3.9"))
        #expect(Marker.compare("3.12", .equal, "3.12.0"))
        #expect(Marker.compare("3.12.4", .equal, "3.12.*"))
        #expect(!Marker.compare("3.13.0", .equal, "3.12.*"))
        #expect(Marker.compare("3.13.0", .notEqual, "3.12.*"))
        #expect(Marker.compare("3.13.0rc1", .less, "3.13.0"))
        #expect(Marker.compare("3.12.5", .compatible, "3.12.2"))
        #expect(!Marker.compare("3.13.0", .compatible, "3.12.2"))
        #expect(Marker.compare("linux", .equal, "linux"))
        #expect(Marker.compare("x86_64", .in, "x86_64 aarch64"))
        #expect(!Marker.compare("linux", .less, "darwin"))
    }

    @Test("interpreter versions read from python: paths", arguments: [
        ("/usr/bin/python3.12", [3, 12]), ("/usr/local/bin/python3.9", [3, 9]), ("/usr/bin/python3", nil),
        ("/opt/python/3.12.4/bin/python3", [3, 12, 4]), ("/root/.pyenv/versions/3.11.9/bin/python", [3, 11, 9]),
        ("/opt/python3.12/bin/python3", [3, 12]), ("/srv/uv/cpython-3.13.1-linux-x86_64-gnu/bin/python3", [3, 13, 1]),
        ("/usr/bin/pypy3.10", [3, 10]), ("/opt/app-1.2/bin/python", nil), ("/usr/bin/python", nil),
    ] as [(String, [Int]?)])
    func interpreterVersions(_ path: String, _ version: [Int]?) {
        #expect(MarkerFacts.version(ofInterpreter: path) == version)
    }

    @Test func evaluatesWhatALinuxHostsPythonDecides() throws {
        let python312 = MarkerFacts.linux(interpreter: "/usr/bin/python3.12")
        #expect(try marker("python_full_version < '3.12'").evaluate(python312) == false)
        #expect(try marker("python_full_version >= '3.12'").evaluate(python312) == true)
        #expect(try marker("python_full_version == '3.12.*'").evaluate(python312) == true)
        #expect(try marker("python_version == '3.10'").evaluate(python312) == false)
        // The patch level is not known from `python3.12`.
        #expect(try marker("python_full_version >= '3.12.4'").evaluate(python312) == nil)
        #expect(try marker("sys_platform == 'win32'").evaluate(python312) == false)
        #expect(try marker("platform_machine == 'x86_64'").evaluate(python312) == nil)
        #expect(try marker("sys_platform == 'win32' and platform_machine == 'x86_64'").evaluate(python312) == false)
        #expect(try marker("sys_platform == 'linux' or platform_machine == 'x86_64'").evaluate(python312) == true)
        #expect(try marker("python_full_version >= '3.10' and sys_platform == 'win32'").evaluate(python312) == false)

        let unknown = MarkerFacts.linux(interpreter: "/usr/bin/python3")
        #expect(try marker("python_full_version < '3.12'").evaluate(unknown) == nil)
        #expect(try marker("python_full_version < '3.12' and sys_platform == 'win32'").evaluate(unknown) == false)
        #expect(try marker("os_name == 'posix'").evaluate(.nothing) == nil)
    }

    @Test func exclusiveMarkersAreProvedAndOverlapsHaveAWitness() throws {
        func overlap(_ a: String?, _ b: String?) throws -> Marker.Overlap {
            Marker.overlap(try a.map(marker), try b.map(marker))
        }
        #expect(try overlap("python_full_version < '3.12'", "python_full_version >= '3.12'") == .exclusive)
        #expect(try overlap("python_full_version == '3.10.*'", "python_full_version >= '3.11'") == .exclusive)
        #expect(try overlap("python_version < '3.11'", "python_full_version >= '3.11'") == .exclusive)
        #expect(try overlap("python_full_version >= '3.10' and python_full_version < '3.12'", "python_full_version >= '3.12'") == .exclusive)
        #expect(try overlap("sys_platform == 'win32'", "sys_platform != 'win32'") == .exclusive)
        #expect(try overlap("platform_machine == 'x86_64'", "platform_machine == 'aarch64'") == .exclusive)
        #expect(try overlap("python_version < '3.11' and sys_platform == 'win32'",
                            "python_version >= '3.11' or sys_platform != 'win32'") == .exclusive)

        guard case .overlap(let witness) = try overlap("python_full_version < '3.12'", "python_full_version >= '3.11'") else {
            Issue.record("3.11 satisfies both")
            return
        }
        #expect(witness.hasPrefix("python_full_version 3.11"))
        guard case .overlap = try overlap(nil, "sys_platform == 'win32'") else {
            Issue.record("a pin without a marker applies everywhere")
            return
        }
        guard case .overlap(let platform) = try overlap("sys_platform == 'linux'", "platform_machine == 'x86_64'") else {
            Issue.record("a Linux x86_64 machine satisfies both")
            return
        }
        #expect(platform.contains("sys_platform linux") && platform.contains("platform_machine x86_64"))
        // A marker that never holds overlaps with nothing.
        #expect(try overlap("python_version < '2' and python_version > '4'", nil) == .exclusive)
    }

    @Test func oddInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["python_version", "python_full_version", "sys_platform", "extra", "and", "or", "not", "in", "(", ")", "'3.12'",
                      "\"win32\"", "'", "\"", "<", "<=", "==", "===", "~=", "!=", ">", ">=", " ", "'3.*'", "'1!2'", "'3.12rc1'", "'.'",
                      "'99999999999999999999'", "é", "\u{0}", "\\", ";", "#"]
        for _ in 0..<3000 {
            let count = Int.random(in: 0...12, using: &generator)
            let text = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined(separator: Bool.random() ? " " : "")
            switch MarkerParser.parse(text) {
            case .success(let parsed):
                _ = parsed.evaluate(.linux(interpreter: "/usr/bin/python3.12"))
                _ = Marker.overlap(parsed, parsed)
                #expect(try! MarkerParser.parse(parsed.description).get() == parsed)
            case .failure(let failure):
                #expect(failure.offset >= 0 && failure.offset <= text.count)
            }
        }
    }
}
