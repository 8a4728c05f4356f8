import Foundation
import PinwheelTestSupport
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

    /// `show --sbom`: the active pylock slot on python3.12 lists what those hosts install, with its hashes; slot A's
    /// universal lock keeps both alternatives of a package, each with its marker.
    @Test func showSbomWritesTheSlotsBillOfMaterials() throws {
        let directory = try Self.repository()
        let active = try CLIRunner.run(["show", "staging", "--repo", directory.path, "--sbom"])
        #expect(active.status == 0, "\(active.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(active.stdout.utf8)) as? [String: Any])
        #expect(document["bomFormat"] as? String == "CycloneDX" && document["specVersion"] as? String == "1.5")
        let components = try #require(document["components"] as? [[String: Any]])
        let django = components.filter { $0["name"] as? String == "django" }
        #expect(django.map { $0["purl"] as? String } == ["pkg:pypi/django@6.1.3"], "python3.12's pin only")
        #expect((django.first?["hashes"] as? [[String: String]])?.isEmpty == false)
        let again = try CLIRunner.run(["show", "staging", "--repo", directory.path, "--sbom"])
        #expect(again.stdout == active.stdout, "the same config, the same bytes")

        let slotA = try CLIRunner.run(["show", "staging", "--repo", directory.path, "--sbom", "--slot", "A"])
        let documentA = try #require(try JSONSerialization.jsonObject(with: Data(slotA.stdout.utf8)) as? [String: Any])
        let asgiref = (documentA["components"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == "asgiref" }
        #expect(asgiref.count == 2, "an interpreter without a version keeps both alternatives")

        let misuse = try CLIRunner.run(["show", "staging", "--repo", directory.path, "--slot", "A"])
        #expect(misuse.status == 2, "--slot is for --sbom")
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
