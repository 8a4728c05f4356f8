import Foundation
import PinwheelCore
import PinwheelGit

/// A config repository in a temporary folder, made through PinwheelGit (libgit2), not the git tool: a work
/// tree on `main` holding the example config of this package, committed and checked out. The folder is
/// removed when the value goes away.
final class ConfigRepository {
    let root: URL
    let repository: Repository

    static let author = Signature(name: "Rel Easer", email: "rel@example.com", date: Date(timeIntervalSince1970: 1_700_000_000))
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-releases-\(UUID().uuidString)")
        do {
            repository = try Repository.create(at: root.path)
            // An empty first commit, then the config: bringing the work tree from the first to the second
            // writes every file and the index, as a checkout would.
            let empty = try repository.commit(changes: [], onBranch: "main", message: "empty\n", author: Self.author)
            try repository.commit(changes: try Self.exampleConfig(), onBranch: "main", message: "initial config\n",
                                  author: Self.author)
            try repository.updateWorkTree(from: empty)
        } catch {
            try? FileManager.default.removeItem(at: root)
            throw error
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    var tip: ObjectID {
        get throws {
            guard let tip = try repository.branchTip("main") else { throw FixtureError("main has no commits") }
            return tip
        }
    }

    /// Commits `files` (path → text) on `main` through libgit2 and brings the work tree along.
    @discardableResult
    func commit(_ files: [String: String], message: String, date: Date = Date()) throws -> ObjectID {
        let previous = try tip
        let author = Signature(name: "Hand Editor", email: "hand@example.com", date: date)
        let id = try repository.commit(changes: files.map { .write($0.key, Data($0.value.utf8)) }, onBranch: "main",
                                       message: message, author: author, expectedParent: .some(previous))
        try repository.updateWorkTree(from: previous)
        return id
    }

    /// A file's text at `commit`.
    func text(_ path: String, at commit: ObjectID) throws -> String? {
        try repository.readFile(path, at: commit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes a file in the work tree without committing it.
    func writeInWorkTree(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: root.appendingPathComponent(path))
    }

    /// Commits a status record for `desired` on the status branch, as the controller does.
    func recordStatus(environment: String, desired: ObjectID, result: EnvironmentStatus.Result, healthy: Bool,
                      date: Date, time: String = "2025-01-01T00:00:00Z", pins: [String] = ["hello-service==1.1.0"],
                      python: String? = nil) throws {
        let status = EnvironmentStatus(environment: environment, desired: desired.hex, result: result, message: "observed",
                                       time: time, active: .b, pins: pins,
                                       hosts: ["web-01": .init(serving: .b, slots: [:], healthy: true),
                                               "web-02": .init(serving: healthy ? .b : nil, slots: [:], healthy: healthy,
                                                               error: healthy ? nil : "connection refused")],
                                       python: python)
        try repository.commit(changes: [.write(EnvironmentStatus.path(of: environment), Data(try status.yaml().utf8))],
                              onBranch: EnvironmentStatus.defaultBranch, message: status.commitMessage,
                              author: Signature(name: "Pinwheel", email: "pinwheel@example.com", date: date))
    }

    /// This package's own Environments/ and Policies/, as file changes.
    static func exampleConfig() throws -> [FileChange] {
        var changes: [FileChange] = []
        for folder in ["Environments", "Policies"] {
            let base = packageRoot.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            for case let relative as String in walker {
                var isDirectory: ObjCBool = false
                let url = base.appendingPathComponent(relative)
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                    continue
                }
                changes.append(.write("\(folder)/\(relative)", try Data(contentsOf: url)))
            }
        }
        return changes
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
