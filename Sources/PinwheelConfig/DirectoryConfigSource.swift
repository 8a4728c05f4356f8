import Foundation
import PinwheelCore

/// Reads the config repository from a folder on disk (a work tree, before anything is committed).
///
/// Only regular files and folders inside the folder are read. Every component of a path below the root is looked
/// at with `lstat` before anything is opened: a symbolic link (to a file or to a folder), a `..`, or anything but a
/// file or folder is refused with ``ConfigSourceError`` without reading what it points to, and the file is opened
/// with `O_NOFOLLOW` and checked again once open. The root itself may be reached through a link.
public struct DirectoryConfigSource: ConfigSource {
    public let root: URL

    public init(root: String) {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
    }

    public func readFile(_ path: String) throws -> Data? {
        let components = try Self.components(of: path)
        guard !components.isEmpty, try walk(components) == .file else { return nil }
        let fullPath = root.appendingPathComponent(components.joined(separator: "/")).path
        try requireInside(fullPath, path: path)
        let fd = open(fullPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { throw ConfigSourceError.symlink(path) }
            if errno == ENOENT { return nil }
            throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: fullPath,
                                                         NSLocalizedDescriptionKey: "cannot open \(path): \(String(cString: strerror(errno)))"])
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { throw ConfigSourceError.outside(path) }
        return try handle.readToEnd() ?? Data()
    }

    public func entries(of path: String) throws -> [ConfigEntry]? {
        let components = try Self.components(of: path)
        guard try walk(components) == .directory else { return nil }
        let url = components.isEmpty ? root : root.appendingPathComponent(components.joined(separator: "/"))
        if !components.isEmpty { try requireInside(url.path, path: path) }
        return try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().map { name in
            var status = stat()
            let found = lstat(url.appendingPathComponent(name).path, &status) == 0
            let type = status.st_mode & S_IFMT
            return ConfigEntry(name: name, isDirectory: found && type == S_IFDIR, isSymlink: found && type == S_IFLNK)
        }
    }

    private enum Kind { case missing, file, directory }

    /// The path's components; `..` is refused (it would leave the folder the caller named).
    private static func components(of path: String) throws -> [String] {
        let components = path.split(separator: "/").map(String.init).filter { $0 != "." }
        if components.contains("..") { throw ConfigSourceError.outside(path) }
        return components
    }

    /// Looks at each component below the root with `lstat`: a link anywhere is refused; so is anything but a regular
    /// file or folder at the end. Stops at the first missing component.
    private func walk(_ components: [String]) throws -> Kind {
        if components.isEmpty { return isDirectory(root.path) ? .directory : .missing }
        var current = root
        for (index, component) in components.enumerated() {
            current = current.appendingPathComponent(component)
            let relative = components[...index].joined(separator: "/")
            var status = stat()
            guard lstat(current.path, &status) == 0 else { return .missing }
            let type = status.st_mode & S_IFMT
            if type == S_IFLNK { throw ConfigSourceError.symlink(relative) }
            let last = index == components.count - 1
            if type == S_IFDIR { if last { return .directory } else { continue } }
            guard type == S_IFREG else { throw ConfigSourceError.outside(relative) }
            return last ? .file : .missing
        }
        return .missing
    }

    /// Refuses a path whose real path (links and `..` resolved) is not below the root's real path.
    private func requireInside(_ fullPath: String, path: String) throws {
        guard let rootReal = Self.realPath(root.path), let real = Self.realPath(fullPath) else { return }
        let prefix = rootReal.hasSuffix("/") ? rootReal : rootReal + "/"
        if !real.hasPrefix(prefix) { throw ConfigSourceError.outside(path) }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
