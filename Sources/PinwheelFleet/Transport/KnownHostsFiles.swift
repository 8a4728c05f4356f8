import Foundation
import PinwheelCore
import Synchronization

/// The known-hosts files ssh is pointed at, made from the config repository's (on disk or at a commit).
///
/// Each content is written once, named by its SHA-256, in one private folder of this process inside the SSH control
/// directory (already private to the user), so a controller that reconciles every few seconds for a month writes a
/// file only when a commit changes one, and leaves nothing in the temporary folder. The folder is removed at exit.
public enum KnownHostsFiles {
    private static let folders = Mutex<Set<String>>([])

    /// The path of a file holding `data`, written now unless this process wrote the same content before.
    public static func path(for data: Data, in controlDirectory: String) throws -> String {
        let folder = "\(controlDirectory)/known-hosts-\(getpid())"
        let path = "\(folder)/\(ContentDigest.hex(of: data))"
        if FileManager.default.fileExists(atPath: path) { return path }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        registerRemovalAtExit(folder)
        // Written beside the final name and renamed over it, by hand: Foundation's atomic write leaves
        // `TemporaryDirectory.*` folders behind in the temporary folder.
        let partial = "\(path).\(UInt64.random(in: 0...UInt64.max))"
        guard FileManager.default.createFile(atPath: partial, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw FleetError(.hostKey, "cannot write a known-hosts file in \(folder): \(String(cString: strerror(errno)))")
        }
        guard rename(partial, path) == 0 else {
            unlink(partial)
            throw FleetError(.hostKey, "cannot write a known-hosts file in \(folder): \(String(cString: strerror(errno)))")
        }
        return path
    }

    private static func registerRemovalAtExit(_ folder: String) {
        let first = folders.withLock { folders in
            let first = folders.isEmpty
            folders.insert(folder)
            return first
        }
        if first {
            atexit { KnownHostsFiles.removeAll() }
        }
    }

    /// Removes every folder this process wrote; called at exit.
    public static func removeAll() {
        let all = folders.withLock { folders in
            defer { folders.removeAll() }
            return folders
        }
        for folder in all {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}
