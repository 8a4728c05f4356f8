import Foundation

/// Which files on the controller's machine a config may name: the folders the operator allows.
///
/// A config comes from whoever can commit to the repository; the controller runs with its operator's keys. So a
/// private key (`identity:`) or an absolute known-hosts file the config names is used only when its real path
/// (`~` expanded, `..` and links resolved on the controller) lies inside an allowed folder. A relative known-hosts
/// path is read from the config repository itself and needs no permission.
public struct LocalFileTrust: Sendable, Hashable {
    /// The allowed folders as the operator gave them (for messages).
    public var folders: [String]
    /// Whether hosts with `address: local` may run: such a host runs the agent on this machine, as the controller's
    /// user, with its keys and credentials at hand, so only the operator can allow it (`--allow-local-hosts`), never
    /// a commit.
    public var allowsLocalHosts: Bool

    public init(folders: [String], allowsLocalHosts: Bool = false) {
        self.folders = folders
        self.allowsLocalHosts = allowsLocalHosts
    }

    /// `~/.ssh` of the user running Pinwheel.
    public static let defaultFolder = "~/.ssh"

    /// The default: only `~/.ssh`.
    public static var standard: LocalFileTrust { LocalFileTrust(folders: [defaultFolder]) }

    /// The folders given, or the default when none are.
    public static func allowing(_ folders: [String], localHosts: Bool = false) -> LocalFileTrust {
        LocalFileTrust(folders: folders.isEmpty ? [defaultFolder] : folders, allowsLocalHosts: localHosts)
    }

    /// Throws unless the operator allowed hosts with `address: local` (the message names the host and the flag).
    public func localHost(_ host: String) throws {
        guard allowsLocalHosts else {
            throw FleetError(.localHostRefused, "host \(host) has `address: local`: it would run on this machine, as "
                             + "this user, with every host's key at hand; a commit cannot allow that, so nothing was run. "
                             + "The operator allows it with --allow-local-hosts")
        }
    }

    /// The real path of `path` when it lies inside an allowed folder (compared by real paths), nil otherwise.
    public func allowedPath(_ path: String) -> String? {
        let real = Self.realPath(path)
        for folder in folders {
            let allowed = Self.realPath(folder)
            let prefix = allowed.hasSuffix("/") ? allowed : allowed + "/"
            if real.hasPrefix(prefix) { return real }
        }
        return nil
    }

    /// The real path of host `host`'s private key; throws when it is outside the allowed folders.
    public func identity(_ path: String, host: String) throws -> String {
        guard let real = allowedPath(path) else { throw refusal("identity", path, host: host) }
        return real
    }

    /// The real path of host `host`'s absolute known-hosts file; throws when it is outside the allowed folders.
    public func knownHosts(_ path: String, host: String) throws -> String {
        guard let real = allowedPath(path) else {
            throw refusal("knownHosts", path, host: host,
                          extra: " (a known_hosts file in the config repository, named relative to the environment's folder, needs no permission)")
        }
        return real
    }

    private func refusal(_ what: String, _ path: String, host: String, extra: String = "") -> FleetError {
        FleetError(.untrustedLocalFile, "\(what) \(path) of host \(host) is outside the allowed folders "
                   + "(\(folders.joined(separator: ", "))); allow it with --allow-identity-dir\(extra)")
    }

    /// `path` with `~` expanded and made absolute, then resolved like `realpath`: every link and `..` followed
    /// on this machine. A part that does not exist yet is appended as it is, after resolving what does exist.
    public static func realPath(_ path: String) -> String {
        var expanded = path
        if expanded == "~" || expanded.hasPrefix("~/") {
            expanded = home + expanded.dropFirst()
        }
        if !expanded.hasPrefix("/") {
            expanded = FileManager.default.currentDirectoryPath + "/" + expanded
        }
        if let resolved = realpath(expanded, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        var existing = (expanded as NSString).standardizingPath
        var rest: [String] = []
        while true {
            if let resolved = realpath(existing, nil) {
                defer { free(resolved) }
                let base = String(cString: resolved)
                return rest.isEmpty ? base : ([base == "/" ? "" : base] + rest.reversed()).joined(separator: "/")
            }
            let parent = (existing as NSString).deletingLastPathComponent
            if parent == existing || parent.isEmpty { return expanded }
            rest.append((existing as NSString).lastPathComponent)
            existing = parent
        }
    }

    /// The home folder of the user running Pinwheel (what ssh expands `~` to).
    static var home: String {
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir {
            return String(cString: dir)
        }
        return NSHomeDirectory()
    }
}
