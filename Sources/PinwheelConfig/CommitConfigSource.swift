import Foundation
import PinwheelCore
import PinwheelGit

/// Reads the config repository at one commit through libgit2, without a work tree.
///
/// A symbolic link in the commit (a tree entry of mode 120000), as a file or as a folder on the way to one, is
/// refused with ``ConfigSourceError/symlink(_:)``: its target path is never read as content.
public struct CommitConfigSource: ConfigSource {
    public let repository: Repository
    public let commit: ObjectID

    public init(repository: Repository, commit: ObjectID) {
        self.repository = repository
        self.commit = commit
    }

    /// Opens the repository at `repositoryPath` and resolves `revision` (a branch, tag, SHA, `HEAD~1`).
    public init(repositoryPath: String, revision: String) throws(GitError) {
        repository = try Repository(openingAt: repositoryPath)
        commit = try repository.resolve(revision)
    }

    public func readFile(_ path: String) throws -> Data? {
        if let link = try repository.symlink(in: path, at: commit) { throw ConfigSourceError.symlink(link) }
        return try repository.readFile(path, at: commit)
    }

    public func entries(of path: String) throws -> [ConfigEntry]? {
        if let link = try repository.symlink(in: path, at: commit) { throw ConfigSourceError.symlink(link) }
        return try repository.listDirectory(path, at: commit)?.map {
            ConfigEntry(name: $0.name, isDirectory: $0.kind == .directory, isSymlink: $0.kind == .symlink)
        }
    }
}
