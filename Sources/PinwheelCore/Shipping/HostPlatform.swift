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
    /// The environment's interpreter, the one the agent runs on: its implementation (`sys.implementation.name`,
    /// `cpython`) and `major.minor` (`3.11`); nil when the agent did not say (an older agent).
    public var implementation: String?
    public var python: String?

    public init(machine: String, libc: String? = nil, libcVersion: String? = nil, uv: Bool = false,
                implementation: String? = nil, python: String? = nil) {
        self.machine = machine
        self.libc = libc
        self.libcVersion = libcVersion
        self.uv = uv
        self.implementation = implementation
        self.python = python
    }

    public var description: String {
        [machine, libc, libcVersion, implementation, python].compactMap { $0 }.joined(separator: " ")
    }

    /// What this host is known to be, for a pin's markers: Linux, its machine, and its interpreter when known (its
    /// implementation and `major.minor`), so an alternative of a marker-split pin meant for another interpreter or
    /// machine is not shipped to it.
    public var markerFacts: MarkerFacts {
        var values = MarkerFacts.linuxValues
        values[.platformMachine] = machine
        var version: [Int]?
        if implementation == "cpython" {
            values[.implementationName] = "cpython"
            values[.platformPythonImplementation] = "CPython"
        }
        if let python, let (major, minor) = Self.version(python) { version = [major, minor] }
        return MarkerFacts(python: version, values: values)
    }

    /// This platform for a slot whose interpreter is not the agent's (`slots: {B: {python: …}}`): what it says of the
    /// interpreter does not hold for that slot's wheels.
    public var withoutInterpreter: HostPlatform {
        var result = self
        result.implementation = nil
        result.python = nil
        return result
    }

    /// This platform when every value is one a real host reports, with the values that are not dropped; nil when the
    /// machine itself is not a plain tag.
    public func checked() -> HostPlatform? {
        guard Self.isTag(machine) else { return nil }
        var result = self
        if let libc, libc != "glibc" && libc != "musl" { result.libc = nil }
        if let libcVersion, Self.version(libcVersion) == nil { result.libcVersion = nil }
        if let implementation, !Self.isTag(implementation) { result.implementation = nil }
        if let python, Self.version(python) == nil { result.python = nil }
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
