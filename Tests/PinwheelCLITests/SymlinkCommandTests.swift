import Foundation
import PinwheelTestSupport
import Testing

/// A hostile config repository: links to a secret outside it. Every command that reads or writes the repository
/// refuses them at `path:1:1` and never prints, nor writes to, what they point at.
@Suite("Links in the config repository")
struct SymlinkCommandTests {
    static let identity = ["GIT_AUTHOR_NAME": "Rel Easer", "GIT_AUTHOR_EMAIL": "rel@example.com"]
    static let secret = "root:$6$CLI-SECRET-0123456789abcdefghijklmnopqrstuvwxyz:20228:0:99999:7:::\n"

    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case slotFile, environmentFile, policy, knownHosts, environmentFolder
        var testDescription: String { rawValue }
        var path: String {
            switch self {
            case .slotFile: "Environments/production/B.txt"
            case .environmentFile: "Environments/production/environment.yaml"
            case .policy: "Policies/production.yaml"
            case .knownHosts: "Environments/production/known_hosts"
            case .environmentFolder: "Environments/production"
            }
        }
    }

    /// The example config in a git repository with `kind` replaced by a link to a secret in `outside`; committed
    /// when `commit` is set.
    func repository(_ kind: Kind, outside: TemporaryDirectory, commit: Bool) throws -> TemporaryDirectory {
        let repo = try TemporaryDirectory()
        try repo.copyExampleConfig()
        try git(repo, "init", "-q", "-b", "main")
        try git(repo, "add", "-A")
        try git(repo, "commit", "-qm", "initial config")
        try outside.write("shadow", Self.secret)
        let link = repo.url.appendingPathComponent(kind.path)
        if kind == .environmentFolder {
            let copy = outside.url.appendingPathComponent("production")
            try FileManager.default.copyItem(at: link, to: copy)
            try FileManager.default.removeItem(at: copy.appendingPathComponent("B.txt"))
            try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent("B.txt"), withDestinationURL: outside.url.appendingPathComponent("shadow"))
            try FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: copy)
        } else {
            try FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside.url.appendingPathComponent("shadow"))
        }
        if commit {
            try git(repo, "add", "-A")
            try git(repo, "commit", "-qm", "hostile")
        }
        return repo
    }

    @discardableResult
    func git(_ directory: TemporaryDirectory, _ arguments: String...) throws -> String {
        try Program.run("/usr/bin/git", ["-C", directory.path, "-c", "user.name=Test", "-c", "user.email=test@example.com"] + arguments)
    }

    func expectNoSecret(_ result: CLIRunner.Result) {
        #expect(!result.stdout.contains("CLI-SECRET") && !result.stderr.contains("CLI-SECRET") && !result.stdout.contains("root:"),
                "\(result.stdout)\n\(result.stderr)")
    }

    @Test(arguments: Kind.allCases)
    func validateOnDiskAndAtACommit(_ kind: Kind) throws {
        let outside = try TemporaryDirectory()
        let repo = try repository(kind, outside: outside, commit: true)
        for extra in [[], ["--rev", "HEAD"]] {
            let result = try CLIRunner.run(["validate", "--repo", repo.path] + extra)
            #expect(result.status == 1, "\(extra) \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("\(kind.path):1:1: error: ") && result.stdout.contains("symlinks are not allowed"),
                    "\(extra) \(result.stdout)")
            expectNoSecret(result)
            for command in [["show", "production"], ["plan", "production"], ["apply", "production", "--quiet"]] {
                let other = try CLIRunner.run(command + ["--repo", repo.path] + extra)
                #expect(other.status != 0)
                expectNoSecret(other)
            }
        }
        let diff = try CLIRunner.run(["diff", "production", "--from", "HEAD~1", "--to", "HEAD", "--repo", repo.path])
        #expect(diff.status != 0)
        expectNoSecret(diff)
        let history = try CLIRunner.run(["history", "production", "--repo", repo.path])
        expectNoSecret(history)
    }

    func fingerprint(_ url: URL) throws -> (Data, Date) {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (try Data(contentsOf: url), attributes[.modificationDate] as? Date ?? .distantPast)
    }

    @Test(arguments: [true, false])
    func releaseAndRollbackRefuseAndLeaveTheOutsideFileAlone(_ committed: Bool) throws {
        for kind in [Kind.slotFile, .environmentFile, .environmentFolder] {
            let outside = try TemporaryDirectory()
            let repo = try repository(kind, outside: outside, commit: committed)
            let secretFile = outside.url.appendingPathComponent("shadow")
            let before = try fingerprint(secretFile)
            let head = try git(repo, "rev-parse", "HEAD")
            let release = try CLIRunner.run(["release", "production", "hello-service==1.1.0", "--repo", repo.path], environment: Self.identity)
            #expect(release.status != 0, "\(kind) \(release.stdout) \(release.stderr)")
            expectNoSecret(release)
            let rollback = try CLIRunner.run(["rollback", "production", "--repo", repo.path], environment: Self.identity)
            #expect(rollback.status != 0, "\(kind) \(rollback.stdout) \(rollback.stderr)")
            expectNoSecret(rollback)
            #expect(try git(repo, "rev-parse", "HEAD") == head)
            let after = try fingerprint(secretFile)
            #expect(after.0 == before.0 && after.1 == before.1, "\(kind)")
        }
    }

    /// A slot file whose link points at a copy of its own committed content (so the work tree looks clean to a
    /// content check): release still refuses before committing, and the copy keeps its bytes.
    @Test func releaseRefusesALinkWithTheCommittedContent() throws {
        let repo = try TemporaryDirectory()
        try repo.copyExampleConfig()
        try git(repo, "init", "-q", "-b", "main")
        try git(repo, "add", "-A")
        try git(repo, "commit", "-qm", "initial config")
        let outside = try TemporaryDirectory()
        let slot = repo.url.appendingPathComponent(Kind.slotFile.path)
        let copy = outside.url.appendingPathComponent("B.txt")
        try FileManager.default.moveItem(at: slot, to: copy)
        try FileManager.default.createSymbolicLink(at: slot, withDestinationURL: copy)
        let before = try fingerprint(copy)
        let release = try CLIRunner.run(["release", "production", "hello-service==1.1.0", "--repo", repo.path], environment: Self.identity)
        #expect(release.status != 0)
        #expect(release.stderr.contains("symbolic link") || release.stdout.contains("symbolic link"), "\(release.stdout) \(release.stderr)")
        let after = try fingerprint(copy)
        #expect(after.0 == before.0 && after.1 == before.1)
        #expect(try git(repo, "log", "--oneline").split(separator: "\n").count == 1)
    }

    @Test func anIdentityOutsideTheAllowedFoldersIsRefused() throws {
        let repo = try TemporaryDirectory()
        try repo.copyExampleConfig()
        let path = "Environments/production/environment.yaml"
        let text = try String(contentsOfFile: repo.url.appendingPathComponent(path).path, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "  identity: ~/.ssh/id_ed25519", with: "  identity: /etc/pinwheel/git_key")
        try repo.write(path, edited)
        #expect(edited.contains("/etc/pinwheel/git_key"))
        let allowed = try TemporaryDirectory()
        for command in ["plan", "apply"] {
            let result = try CLIRunner.run([command, "production", "--repo", repo.path, "--allow-identity-dir", allowed.path])
            #expect(result.status != 0)
            #expect(result.stderr.contains("identity /etc/pinwheel/git_key of host")
                    && result.stderr.contains("is outside the allowed folders (\(allowed.path)); allow it with --allow-identity-dir"),
                    "\(result.stderr)")
        }
    }
}
