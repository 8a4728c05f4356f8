/// Why a config source refused to read a path: the config repository may only hold regular files inside it.
///
/// A source throws this from `readFile` and `entries` *without* reading what the path points to, and the loader
/// reports it at `path:1:1`, so a link committed to `/etc/shadow` never has its target's content printed.
public enum ConfigSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `path` (the file itself or one of its folders) is a symbolic link.
    case symlink(String)
    /// `path` resolves outside the repository, or is not a regular file or folder.
    case outside(String)

    /// The path the error is about, relative to the repository's root.
    public var path: String {
        switch self {
        case .symlink(let path), .outside(let path): return path
        }
    }

    public var message: String {
        switch self {
        case .symlink: return "`\(Quote.excerpt(path))` is a symbolic link; symlinks are not allowed in the config repository"
        case .outside: return "`\(Quote.excerpt(path))` is not a regular file inside the config repository"
        }
    }

    public var hint: String {
        "Pinwheel reads only regular files and folders inside the repository and never follows links: "
            + "replace it with the file itself (git rm the link, add the content)"
    }

    public var description: String { "\(path): \(message); \(hint)" }

    /// The diagnostic the loader reports: at the offending path, line 1, column 1.
    public var diagnostic: Diagnostic {
        Diagnostic(at: SourceLocation(path: path), message, hint: hint)
    }
}
