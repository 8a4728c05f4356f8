import Foundation
import PinwheelCore

/// The controller's content-addressed store of shipped artifacts: `files/<sha256>`, each written beside its name and
/// renamed into place only after its hash matched, so a file there was whole and right when it was written.
///
/// Every read checks the hash again: a file damaged since (a disk fault, a person's edit) is reported as corrupt and
/// removed, so the next fetch replaces it. The folder is the operator's (`--artifact-cache`), by default
/// ``defaultFolder()`` in the controller's own cache folder, never a shared temporary folder.
public struct ArtifactCache: Sendable {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// `$XDG_CACHE_HOME/pinwheel/artifacts`, else `~/.cache/pinwheel/artifacts` (for the Debian service,
    /// `/var/lib/pinwheel/.cache/…`: its state folder).
    public static func defaultFolder() -> String {
        let home = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
        return "\(home)/pinwheel/artifacts"
    }

    /// What a read found.
    public enum Entry: Sendable {
        case missing
        /// The file's bytes did not hash to its name; it has been removed.
        case corrupt(actual: String)
        case present(Data)
    }

    func path(of sha256: String) -> String { "\(folder)/files/\(sha256)" }

    /// The file named by `sha256`, checked against it (unless `verify` is false: the caller checked it earlier).
    public func read(_ sha256: String, verify: Bool = true) -> Entry {
        guard ShippedArtifact.isSHA256(sha256), let data = FileManager.default.contents(atPath: path(of: sha256)) else { return .missing }
        guard verify else { return .present(data) }
        let actual = ContentDigest.hex(of: data)
        guard actual == sha256 else {
            try? FileManager.default.removeItem(atPath: path(of: sha256))
            return .corrupt(actual: actual)
        }
        return .present(data)
    }

    /// Keeps `data` under `sha256` when it hashes to it; throws, keeping nothing, when it does not.
    public func store(_ data: Data, sha256: String, name: String) throws {
        let actual = ContentDigest.hex(of: data)
        guard actual == sha256 else { throw ShipError.hashMismatch(name: name, expected: sha256, actual: actual) }
        let files = "\(folder)/files"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = "\(files)/.\(sha256).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ShipError.cache("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
            try handle.close()
            guard rename(temporary, path(of: sha256)) == 0 else {
                throw ShipError.cache("cannot rename \(temporary): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
