import Foundation

/// A change to apply to a tree by ``Repository/commit(changes:onBranch:message:author:committer:expectedParent:)``.
public enum FileChange: Hashable, Sendable {
    /// Create or replace a regular file (folders are created as needed).
    case write(String, Data)
    /// Remove a file (a no-op when it is already absent).
    case delete(String)

    var path: String {
        switch self {
        case .write(let path, _), .delete(let path): return path
        }
    }
}
