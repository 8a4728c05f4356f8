import Foundation
import Testing

/// `validate`, `show` and `diff` with the lock files uv writes (the fixtures of PinwheelCoreTests).
@Suite("pinwheel with lock files")
struct LockFileCommandTests {
    static func fixture(_ name: String) throws -> String {
        let url = CLIRunner.packageRoot.appendingPathComponent("Tests/PinwheelCoreTests/Fixtures/\(name)")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The example config with staging's slot A a universal requirements file and slot B a pylock.toml on python3.12.
    static func repository() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.copyExampleConfig()
        let path = "Environments/staging/environment.yaml"
        let text = try String(contentsOfFile: directory.url.appendingPathComponent(path).path, encoding: .utf8)
        try directory.write(path, text.replacingOccurrences(of: "  B: B.txt\n", with: "  B: {pins: pylock.B.toml, python: /usr/bin/python3.12}\n"))
        try directory.write("Environments/staging/A.txt", try fixture("universal-hashed.txt"))
        try directory.write("Environments/staging/pylock.B.toml", try fixture("pylock.service.toml"))
        return directory
    }

    @Test func validateAndShowUnderstandBothFormats() throws {
        let directory = try Self.repository()
        let valid = try CLIRunner.run(["validate", "--repo", directory.path])
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        let show = try CLIRunner.run(["show", "staging", "--repo", directory.path])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("slot B (pylock.B.toml, python /usr/bin/python3.12) [active]:"), "\(show.stdout)")
        #expect(show.stdout.contains("    django==6.1.3 ; python_full_version >= '3.12'  (2 hashes)"))
        #expect(show.stdout.contains("not installed on these hosts (python 3.12, Linux): asgiref==3.12.1"))
        #expect(show.stdout.contains("/usr/bin/python3 names no version, so the hosts' pip picks among the pins of asgiref, django"))
    }

    @Test func aBrokenLockIsAnErrorAtItsPlace() throws {
        let directory = try Self.repository()
        let lock = try Self.fixture("pylock.service.toml").replacingOccurrences(of: "version = \"6.1.3\"", with: "version = \"six\"")
        try directory.write("Environments/staging/pylock.B.toml", lock)
        try directory.write("Environments/staging/A.txt", "django==5.2.20 ; python_version >= '3.10'\ndjango==6.1.3 ; python_version >= '3.12'\n")
        let result = try CLIRunner.run(["validate", "--repo", directory.path])
        #expect(result.status == 1)
        let line = try #require(lock.components(separatedBy: "\n").firstIndex { $0 == "version = \"six\"" }) + 1
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("Environments/staging/pylock.B.toml:\(line):11: error: `six` is not a valid version of `django`") },
                "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("Environments/staging/A.txt:2:1: error: `django` is pinned twice for the same environments") },
                "\(result.stdout)")
    }
}
