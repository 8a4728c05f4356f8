import Foundation
import PinwheelCore
import PinwheelGit

/// Reads the config repository at one commit through libgit2, without a work tree.
struct CommitConfigSource: ConfigSource {
    let repository: Repository
    let commit: ObjectID

    init(repository: Repository, commit: ObjectID) {
        self.repository = repository
        self.commit = commit
    }

    init(repositoryPath: String, revision: String) throws {
        do {
            repository = try Repository(openingAt: repositoryPath)
            commit = try repository.resolve(revision)
        } catch {
            throw UsageError("\(error)")
        }
    }

    func readFile(_ path: String) throws -> Data? {
        try repository.readFile(path, at: commit)
    }

    func entries(of path: String) throws -> [ConfigEntry]? {
        try repository.listDirectory(path, at: commit)?.map { ConfigEntry(name: $0.name, isDirectory: $0.kind == .directory) }
    }
}
