import Testing
@testable import PinwheelCore

@Suite("TOML reader")
struct TOMLReaderTests {
    private func read(_ text: String) throws -> TOMLNode.Table {
        try TOMLReader.parse(text).get()
    }

    private func failure(_ text: String) -> TOMLReader.Failure? {
        if case .failure(let failure) = TOMLReader.parse(text) { return failure }
        return nil
    }

    @Test func readsWhatLockersWriteWithPositions() throws {
        let table = try read("""
            # a comment
            lock-version = "1.0"
            "quoted key" = 'literal \\n'
            size = 1_000
            hex = 0xff
            ratio = -1.5e3
            flag = true
            when = 2026-07-14T09:56:16Z
            spaced = 1979-05-27 07:32:00
            list = [
              1, # trailing comments and commas
              2,
            ]
            text = \"\"\"
            two \\
               lines\"\"\"

            [[packages]]
            name = "a"
            wheels = [{ url = "u", hashes = { sha256 = "x" } }]
            [packages.sdist]
            url = "s"

            [[packages]]
            name = "b"
            tool.uv.note = "dotted"
            """)
        #expect(table.keys.first == "lock-version")
        #expect(table["lock-version"]?.string == "1.0")
        #expect(table["lock-version"]?.line == 2 && table["lock-version"]?.column == 16)
        #expect(table["quoted key"]?.string == "literal \\n")
        #expect(table["size"]?.integer == 1000)
        #expect(table["hex"]?.integer == 255)
        #expect(table["ratio"]?.value == .float(-1500))
        #expect(table["flag"]?.value == .boolean(true))
        #expect(table["when"]?.value == .dateTime("2026-07-14T09:56:16Z"))
        #expect(table["spaced"]?.value == .dateTime("1979-05-27T07:32:00"))
        #expect(table["list"]?.array?.compactMap(\.integer) == [1, 2])
        #expect(table["text"]?.string == "two lines")
        let packages = try #require(table["packages"]?.array)
        #expect(packages.count == 2)
        #expect(packages[0].line == 18 && packages[0].column == 1)
        let wheel = try #require(packages[0].table?["wheels"]?.array?.first)
        #expect(wheel.line == 20 && wheel.column == 11)
        #expect(wheel.table?["hashes"]?.table?["sha256"]?.string == "x")
        #expect(packages[0].table?["sdist"]?.table?["url"]?.string == "s")
        #expect(packages[1].table?["tool"]?.table?["uv"]?.table?["note"]?.string == "dotted")
    }

    @Test("mistakes are refused at their place", arguments: [
        ("a = 1\na = 2\n", 2, 1, "set twice"),
        ("[t]\n[t]\n", 2, 1, "defined twice"),
        ("a = \"open\n", 1, 10, "not closed"),
        ("a = 2026-07-14T\n", 1, 5, "not a TOML value"),
        ("a = 2026-13-01\n", 1, 5, "not a TOML value"),
        ("a = bare\n", 1, 5, "strings need quotes"),
        ("a = [1, 2\n", 2, 1, "expected `,` or `]`"),
        ("a = {x = 1\n", 1, 11, "expected `,` or `}`"),
        ("a = 1 b = 2\n", 1, 7, "end of the line"),
        ("a = \"\\q\"\n", 1, 8, "not a TOML escape"),
        ("a = {x = 1}\n[a]\n", 2, 1, "defined twice"),
        ("a = [1]\n[[a]]\n", 2, 1, "already a value"),
        ("a = 1\na.b = 2\n", 1, 5, "is a value"),
        ("= 1\n", 1, 1, "expected a key"),
        ("a =\n", 1, 4, "expected a value"),
    ])
    func failures(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        let failure = self.failure(text)
        #expect(failure?.line == line && failure?.column == column, "\(String(describing: failure))")
        #expect(failure?.message.contains(message) == true, "\(String(describing: failure))")
    }

    @Test func deepNestingIsRefusedNotFollowed() {
        #expect(failure("a = " + String(repeating: "[", count: 50_000))?.message.contains("nest too deeply") == true)
        #expect(failure("a = " + String(repeating: "{b = ", count: 10_000))?.message.contains("nest too deeply") == true)
    }

    @Test func manyTablesAreReadInLinearTime() throws {
        // Half a megabyte of `[[p]]` tables, each with a key: seconds when linear, minutes when quadratic.
        let text = String(repeating: "[[p]]\nk = 1\n", count: 50_000)
        let clock = ContinuousClock()
        let started = clock.now
        let table = try read(text)
        #expect(table["p"]?.array?.count == 50_000)
        #expect(table["p"]?.array?.last?.table?["k"]?.integer == 1)
        #expect(clock.now - started < .seconds(30), "reading must not be quadratic")
    }

    @Test func oddInputNeverCrashes() throws {
        let lock = Array(try UniversalLockTests.fixture("pylock.service.toml").unicodeScalars)
        var generator = SystemRandomNumberGenerator()
        let pieces: [Unicode.Scalar] = ["\"", "'", "[", "]", "{", "}", "=", "\n", "\r", "#", ",", ".", " ", "\\", "é", "\u{0}", "T", ":", "-", "0", "9", "Z", "+"]
        for _ in 0..<300 {
            var text = lock
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0..<text.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: text[index] = pieces.randomElement(using: &generator)!
                case 1: text.remove(at: index)
                default: text.insert(pieces.randomElement(using: &generator)!, at: index)
                }
            }
            var string = ""
            string.unicodeScalars.append(contentsOf: text)
            if case .failure(let failure) = TOMLReader.parse(string) {
                #expect(failure.line >= 1 && failure.column >= 1)
            }
        }
        for _ in 0..<1000 {
            var string = ""
            string.unicodeScalars.append(contentsOf: (0..<Int.random(in: 0...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! })
            _ = TOMLReader.parse(string)
        }
    }
}
