import Foundation
import PinwheelCore
import Synchronization

/// The known-hosts files ssh is pointed at, made from the config repository's (on disk or at a commit).
///
/// Each content is written once, named by its SHA-256, in one folder of this process inside the private SSH runtime
/// folder (``RuntimeFolder``), so a controller that reconciles every few seconds for a month writes a file only when a
/// commit changes one, and leaves nothing in the temporary folder. A file is reused only when this process wrote it
/// (never because a file of that name exists): the folder's name has a random part, it is created new (never
/// adopted), and files are written with exclusive, no-follow opens. The folder is removed at exit.
public enum KnownHostsFiles {
    private struct State {
        /// This process's folder in each runtime folder.
        var folders: [String: String] = [:]
        /// The files this process wrote.
        var written: Set<String> = []
        var removesAtExit = false
    }

    private static let state = Mutex(State())

    /// The path of a file holding `data`, written now unless this process wrote the same content before.
    public static func path(for data: Data, in controlDirectory: String) throws -> String {
        try RuntimeFolder.prepare(controlDirectory)
        return try state.withLock { state in
            let folder = try state.folders[controlDirectory] ?? makeFolder(in: controlDirectory)
            if state.folders[controlDirectory] == nil {
                state.folders[controlDirectory] = folder
                if !state.removesAtExit {
                    state.removesAtExit = true
                    atexit { KnownHostsFiles.removeAll() }
                }
            }
            let path = "\(folder)/\(ContentDigest.hex(of: data))"
            if state.written.contains(path) { return path }
            try store(data, at: path)
            state.written.insert(path)
            return path
        }
    }

    /// A new folder of this process, `known-hosts-<pid>-<random>`: created here, never one that existed.
    private static func makeFolder(in controlDirectory: String) throws -> String {
        for _ in 0..<8 {
            let folder = "\(controlDirectory)/known-hosts-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
            if mkdir(folder, 0o700) == 0 { return folder }
            if errno != EEXIST { break }
        }
        throw FleetError(.hostKey, "cannot make a known-hosts folder in \(controlDirectory): \(String(cString: strerror(errno)))")
    }

    /// Written beside the final name (a new file: `O_EXCL`, `O_NOFOLLOW`) and renamed over it.
    private static func store(_ data: Data, at path: String) throws {
        let partial = "\(path).\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        let descriptor = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw FleetError(.hostKey, "cannot write a known-hosts file \(partial): \(String(cString: strerror(errno)))")
        }
        let complete = data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return true }
            var offset = 0
            while offset < bytes.count {
                let count = write(descriptor, base + offset, bytes.count - offset)
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        close(descriptor)
        guard complete, rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw FleetError(.hostKey, "cannot write a known-hosts file \(path): \(reason)")
        }
    }

    /// Removes every folder this process wrote; called at exit.
    public static func removeAll() {
        let all = state.withLock { state in
            defer {
                state.folders = [:]
                state.written = []
            }
            return Array(state.folders.values)
        }
        for folder in all {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}
