import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel --version` says what the repository's VERSION file says: the one place the version is written.
@Suite("pinwheel --version")
struct VersionTests {
    @Test func theVersionIsTheVersionFilesAndAPlainBuildHasNoCommit() throws {
        let version = try String(contentsOf: CLIRunner.packageRoot.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/) != nil, "VERSION: \(version)")
        let result = try CLIRunner.run(["--version"])
        #expect(result.status == 0)
        // scripts/package stamps the commit; `swift build` (as the tests are built) has none to say.
        #expect(result.stdout == "\(version) (unknown)\n", "\(result.stdout)")
    }
}
