import Foundation

/// Where the config repository's files are read from: the files on disk, or a commit read through libgit2.
///
/// The model only ever reads through this, so validation gives the same answers for a work tree and a commit.
public protocol ConfigSource {
    /// The bytes of the file at `path` (relative to the repository root), or nil when there is no such file.
    ///
    /// Throws ``ConfigSourceError`` without reading anything when the path, or a folder on the way to it, is a
    /// symbolic link or leads outside the repository.
    func readFile(_ path: String) throws -> Data?
    /// The entries of the folder at `path`, or nil when there is no such folder. Throws ``ConfigSourceError`` as
    /// `readFile` does.
    func entries(of path: String) throws -> [ConfigEntry]?
}

/// One entry of a folder in the config repository.
public struct ConfigEntry: Sendable, Hashable {
    public var name: String
    public var isDirectory: Bool
    /// The entry is a symbolic link (never followed: reading through it is refused).
    public var isSymlink: Bool

    public init(name: String, isDirectory: Bool, isSymlink: Bool = false) {
        self.name = name
        self.isDirectory = isDirectory
        self.isSymlink = isSymlink
    }
}
