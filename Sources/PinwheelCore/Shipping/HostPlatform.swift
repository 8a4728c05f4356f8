/// What a host can install, as its agent reports it with every observation: the machine (`uname -m`), its C library
/// and whether it has a uv of its own. The controller uses it to ship each host only the files it can install and,
/// with `ship: {uv: …}`, the uv build that runs there.
///
/// The host writes these values, so they are checked before use: a value that is not a plain tag is dropped, and an
/// unknown platform makes the controller ship as if it knew nothing (every wheel of a pin, no uv).
public struct HostPlatform: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `uname -m`: `x86_64`, `aarch64`, …, as wheel platform tags spell it.
    public var machine: String
    /// `glibc` or `musl`; nil when the agent could not tell.
    public var libc: String?
    /// The C library's version (`2.36`); nil when unknown.
    public var libcVersion: String?
    /// Whether the host has a uv of its own (it keeps using it).
    public var uv: Bool

    public init(machine: String, libc: String? = nil, libcVersion: String? = nil, uv: Bool = false) {
        self.machine = machine
        self.libc = libc
        self.libcVersion = libcVersion
        self.uv = uv
    }

    public var description: String {
        [machine, libc, libcVersion].compactMap { $0 }.joined(separator: " ")
    }

    /// This platform when every value is one a real host reports, with the values that are not dropped; nil when the
    /// machine itself is not a plain tag.
    public func checked() -> HostPlatform? {
        guard Self.isTag(machine) else { return nil }
        var result = self
        if let libc, libc != "glibc" && libc != "musl" { result.libc = nil }
        if let libcVersion, Self.version(libcVersion) == nil { result.libcVersion = nil }
        return result
    }

    /// `major.minor` of a C library version such as `2.36` or `1.2.4`.
    static func version(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.count <= 4, text.utf8.count <= 16,
              let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else { return nil }
        return (major, minor)
    }

    static func isTag(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 32 && text.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }
}
