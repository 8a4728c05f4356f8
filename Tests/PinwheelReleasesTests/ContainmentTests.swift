import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

/// A secret outside the config repository, made by the test, that links in the repository point at.
final class OutsideSecret {
    let folder: URL
    static let text = "root:$6$SECRET-SHADOW-LINE-0123456789abcdefghijklmnopqrstuvwxyz:20228:0:99999:7:::\n"

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(Self.text.utf8).write(to: file)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    var file: URL { folder.appendingPathComponent("shadow") }

    /// The file's bytes and modification time, to show nothing wrote to it.
    func fingerprint(_ url: URL? = nil) throws -> (Data, Date) {
        let url = url ?? file
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (try Data(contentsOf: url), attributes[.modificationDate] as? Date ?? .distantPast)
    }
}

/// The kinds of link a hostile commit can hold, each with the path a refusal must be reported at.
enum LinkKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case slotFile, environmentFile, policy, knownHosts, environmentFolder

    var testDescription: String { rawValue }

    /// The path in the repository that becomes a link.
    var path: String {
        switch self {
        case .slotFile: "Environments/production/B.txt"
        case .environmentFile: "Environments/production/environment.yaml"
        case .policy: "Policies/production.yaml"
        case .knownHosts: "Environments/production/known_hosts"
        case .environmentFolder: "Environments/production"
        }
    }

    /// Replaces `path` in the work tree with a link to the secret (for a folder: to a folder outside holding a
    /// copy of the environment's files, with the secret as B.txt).
    func make(in root: URL, secret: OutsideSecret) throws {
        let link = root.appendingPathComponent(path)
        if self == .environmentFolder {
            let outside = secret.folder.appendingPathComponent("production")
            try FileManager.default.copyItem(at: link, to: outside)
            try FileManager.default.removeItem(at: outside.appendingPathComponent("B.txt"))
            try FileManager.default.createSymbolicLink(at: outside.appendingPathComponent("B.txt"), withDestinationURL: secret.file)
            try FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside)
        } else {
            try FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: secret.file)
        }
    }
}

/// Runs the git tool (to commit links, which PinwheelGit's own commits never make).
func git(_ arguments: [String], in folder: URL) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"] + arguments
    process.currentDirectoryURL = folder
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw FixtureError("git \(arguments.joined(separator: " ")) failed") }
}

@Suite("Containment: links in the config repository are refused, never followed")
struct ContainmentTests {
    let author = ConfigRepository.author

    private func expectRefused(_ report: ConfigReport, at path: String, _ comment: Comment? = nil) {
        let texts = report.diagnostics.map(\.description)
        #expect(texts.contains { $0.hasPrefix("\(path):1:1: error: ") && $0.contains("symlinks are not allowed") }, "\(texts)")
        #expect(!texts.joined().contains("SECRET-SHADOW"), "\(texts)")
        #expect(report.environments["production"] == nil)
    }

    @Test(arguments: LinkKind.allCases)
    func onDisk(_ kind: LinkKind) throws {
        let config = try ConfigRepository()
        let secret = try OutsideSecret()
        try kind.make(in: config.root, secret: secret)
        let report = try ConfigLoader(source: DirectoryConfigSource(root: config.root.path)).load()
        expectRefused(report, at: kind.path)
        // Other environments are still read.
        #expect(report.environments["staging"] != nil)
    }

    @Test(arguments: LinkKind.allCases)
    func atACommit(_ kind: LinkKind) throws {
        let config = try ConfigRepository()
        let secret = try OutsideSecret()
        try kind.make(in: config.root, secret: secret)
        try git(["add", "-A"], in: config.root)
        try git(["commit", "-q", "-m", "hostile"], in: config.root)
        let tip = try config.tip
        let source = CommitConfigSource(repository: config.repository, commit: tip)
        expectRefused(try ConfigLoader(source: source).load(), at: kind.path)
        #expect(try config.repository.symlink(in: "\(kind.path)/x", at: tip) == kind.path)
        #expect(try config.repository.entryKind(kind.path, at: tip) == .symlink)
        let error = #expect(throws: GitError.self) { try config.repository.readFile(kind.path, at: tip) }
        #expect(error?.code == .symlink)
        // A release or a rollback of an environment that holds a link is refused before anything is committed.
        let refused = #expect(throws: OperationError.self) {
            try ReleaseCommit(environment: "production", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")])
                .commit(in: config.repository, author: author, committer: author)
        }
        #expect(refused?.code == .invalid)
        let said = refused?.diagnostics.map(\.description).joined() ?? ""
        #expect(!said.contains("SECRET-SHADOW"))
        #expect(try config.tip == tip)
    }

    @Test func aDirectorySourceRefusesDotDotAndOtherKinds() throws {
        let config = try ConfigRepository()
        let source = DirectoryConfigSource(root: config.root.path)
        #expect(throws: ConfigSourceError.outside("Environments/../../etc/passwd")) {
            try source.readFile("Environments/../../etc/passwd")
        }
        #expect(try source.readFile("Environments/production") == nil)
        #expect(try source.readFile("Environments/production/A.txt") != nil)
        #expect(mkfifo(config.root.appendingPathComponent("Environments/production/fifo").path, 0o600) == 0)
        #expect(throws: ConfigSourceError.outside("Environments/production/fifo")) {
            try source.readFile("Environments/production/fifo")
        }
    }

    /// The work tree's slot file is replaced by a link to a file outside that has the same bytes (so the content
    /// matches the commit): a release must not write the new pins through it.
    @Test(arguments: [LinkKind.slotFile, .environmentFile, .environmentFolder])
    func releaseDoesNotWriteThroughALink(_ kind: LinkKind) throws {
        let config = try ConfigRepository()
        let secret = try OutsideSecret()
        let original = config.root.appendingPathComponent(LinkKind.slotFile.path)
        try FileManager.default.copyItem(at: original, to: secret.file.deletingLastPathComponent().appendingPathComponent("B.copy"))
        let target = secret.folder.appendingPathComponent("B.copy")
        let environmentCopy = secret.folder.appendingPathComponent("environment.copy")
        try FileManager.default.copyItem(at: config.root.appendingPathComponent(LinkKind.environmentFile.path), to: environmentCopy)
        switch kind {
        case .slotFile:
            try FileManager.default.removeItem(at: original)
            try FileManager.default.createSymbolicLink(at: original, withDestinationURL: target)
        case .environmentFile:
            let path = config.root.appendingPathComponent(kind.path)
            try FileManager.default.removeItem(at: path)
            try FileManager.default.createSymbolicLink(at: path, withDestinationURL: environmentCopy)
        default:
            let folder = config.root.appendingPathComponent(kind.path)
            let outside = secret.folder.appendingPathComponent("production")
            try FileManager.default.moveItem(at: folder, to: outside)
            try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: outside)
        }
        let watched = kind == .environmentFolder ? secret.folder.appendingPathComponent("production/B.txt")
            : kind == .environmentFile ? environmentCopy : target
        let before = try secret.fingerprint(watched)
        let tip = try config.tip
        let error = #expect(throws: OperationError.self) {
            try ReleaseCommit(environment: "production", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")])
                .commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .refused || error?.code == .dirtyWorkTree, "\(String(describing: error))")
        #expect(try config.tip == tip)
        let after = try secret.fingerprint(watched)
        #expect(after.0 == before.0 && after.1 == before.1)
    }

    @Test func rollbackDoesNotWriteThroughALink() throws {
        let config = try ConfigRepository()
        _ = try ReleaseCommit(environment: "production", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")])
            .commit(in: config.repository, author: author, committer: author)
        let secret = try OutsideSecret()
        let slot = config.root.appendingPathComponent(LinkKind.slotFile.path)
        let target = secret.folder.appendingPathComponent("B.copy")
        try FileManager.default.moveItem(at: slot, to: target)
        try FileManager.default.createSymbolicLink(at: slot, withDestinationURL: target)
        let before = try secret.fingerprint(target)
        let tip = try config.tip
        let error = #expect(throws: OperationError.self) {
            try RollbackCommit(environment: "production").commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .refused || error?.code == .dirtyWorkTree, "\(String(describing: error))")
        #expect(try config.tip == tip)
        let after = try secret.fingerprint(target)
        #expect(after.0 == before.0 && after.1 == before.1)
    }

    /// Below the library's own checks: the work tree update itself refuses a link and writes nothing.
    @Test func updatingTheWorkTreeRefusesALinkAndReplacesFiles() throws {
        let config = try ConfigRepository()
        let secret = try OutsideSecret()
        let slot = config.root.appendingPathComponent(LinkKind.slotFile.path)
        let target = secret.folder.appendingPathComponent("B.copy")
        try FileManager.default.copyItem(at: slot, to: target)
        // A plain update replaces the file: a hard link to it keeps the old content.
        let hardLink = secret.folder.appendingPathComponent("hard")
        try FileManager.default.linkItem(at: slot, to: hardLink)
        let oldBytes = try Data(contentsOf: slot)
        try config.commit([LinkKind.slotFile.path: "hello-service==1.1.0\n"], message: "one\n")
        #expect(try Data(contentsOf: hardLink) == oldBytes)
        #expect(try String(contentsOf: slot, encoding: .utf8) == "hello-service==1.1.0\n")
        #expect(try config.repository.uncommittedChanges(in: ["Environments"]) == [])

        let tip = try config.tip
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: slot, to: target)
        try FileManager.default.removeItem(at: slot)
        try FileManager.default.createSymbolicLink(at: slot, withDestinationURL: target)
        let before = try secret.fingerprint(target)
        try config.repository.commit(changes: [.write(LinkKind.slotFile.path, Data("hello-service==2.0.0\n".utf8))], onBranch: "main",
                                     message: "two\n", author: author, expectedParent: .some(tip))
        let error = #expect(throws: GitError.self) { try config.repository.updateWorkTree(from: tip) }
        #expect(error?.code == .symlink)
        let after = try secret.fingerprint(target)
        #expect(after.0 == before.0 && after.1 == before.1)
    }
}
