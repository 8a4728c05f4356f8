import Foundation

/// The private folder where Pinwheel keeps its SSH control sockets and the known-hosts files it writes.
///
/// A control socket is a live, authenticated connection to a host, and a known-hosts file decides which keys are
/// trusted: whoever can put a file in that folder can borrow the one or forge the other. So the folder is never a
/// fixed name under the shared temporary directory (another local user could create it first): it is
/// `$XDG_RUNTIME_DIR/pinwheel` (systemd's per-user runtime folder) or `~/.cache/pinwheel/ssh`, made with mode 0700,
/// and every use checks that it is a real folder, owned by this user, that nobody else can write.
public enum RuntimeFolder {
    /// The longest folder path whose control sockets fit in a socket address (107 bytes): ssh adds `/`, a 24-character
    /// name and a 17-character temporary suffix while it creates the master's socket.
    public static let longestPath = 107 - 1 - 24 - 17

    /// `$XDG_RUNTIME_DIR/pinwheel` when that is set to an absolute path, else `~/.cache/pinwheel/ssh`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return (runtime as NSString).appendingPathComponent("pinwheel")
        }
        return (LocalFileTrust.home as NSString).appendingPathComponent(".cache/pinwheel/ssh")
    }

    /// Makes `path` (and missing parents, mode 0700) when it does not exist, then checks it; returns `path`.
    ///
    /// Throws ``FleetError/Code/unsafeRuntimeFolder`` when it is a link or not a folder, is owned by another user, or
    /// is writable by its group or others; nothing is connected to then.
    @discardableResult
    public static func prepare(_ path: String) throws -> String {
        guard path.hasPrefix("/") else {
            throw FleetError(.unsafeRuntimeFolder, "the SSH runtime folder \(path) is not an absolute path")
        }
        guard path.utf8.count <= longestPath else {
            throw FleetError(.unsafeRuntimeFolder, "the SSH runtime folder \(path) is longer than \(longestPath) bytes, too long "
                             + "for its control sockets; set XDG_RUNTIME_DIR to a shorter folder of this user")
        }
        var status = stat()
        if lstat(path, &status) != 0 {
            guard errno == ENOENT else { throw refusal(path, "cannot be read: \(String(cString: strerror(errno)))") }
            try make(path)
            guard lstat(path, &status) == 0 else { throw refusal(path, "cannot be read: \(String(cString: strerror(errno)))") }
        }
        if let problem = problem(of: status) {
            throw refusal(path, problem)
        }
        return path
    }

    /// Why a folder with this status may not hold Pinwheel's sockets and keys; nil when it may.
    static func problem(of status: stat) -> String? {
        if (status.st_mode & S_IFMT) == S_IFLNK {
            return "is a symbolic link"
        }
        if (status.st_mode & S_IFMT) != S_IFDIR {
            return "is not a folder"
        }
        if status.st_uid != geteuid() {
            return "is owned by user id \(status.st_uid), not by this user (\(geteuid()))"
        }
        if status.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            return "is writable by its group or by others (mode \(String(status.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }

    private static func refusal(_ path: String, _ problem: String) -> FleetError {
        FleetError(.unsafeRuntimeFolder, "the SSH runtime folder \(path) \(problem); Pinwheel keeps its control sockets and "
                   + "known-hosts files only in a folder of its own user that nobody else can write, and connected to "
                   + "nothing (remove the folder, or make it this user's with mode 700)")
    }

    /// Creates `path` and its missing parents, each with mode 0700.
    private static func make(_ path: String) throws {
        var missing: [String] = []
        var current = path
        var status = stat()
        while current != "/", lstat(current, &status) != 0, errno == ENOENT {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for folder in missing.reversed() where mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw refusal(folder, "cannot be created: \(String(cString: strerror(errno)))")
        }
    }
}
