import Foundation

/// What Pinwheel knows, without asking a host, about the environment a slot's markers are evaluated in.
///
/// Pinwheel's hosts run Linux, so `sys_platform`, `os_name` and `platform_system` are known. The interpreter's version
/// is known only when the slot's `python:` names it (`/usr/bin/python3.12`, `/opt/python/3.12.4/bin/python3`):
/// `/usr/bin/python3` could be any version, and the controller never asks a host to decide what the config means.
/// Everything else (the machine, the implementation) is unknown; a marker that depends on it is left to pip on the host.
public struct MarkerFacts: Sendable, Hashable {
    /// The interpreter's release numbers (`[3, 12]` or `[3, 12, 4]`); nil when unknown.
    public var python: [Int]?
    /// The values known for every host, by variable.
    public var values: [Marker.Variable: String]

    public init(python: [Int]?, values: [Marker.Variable: String]) {
        self.python = python
        self.values = values
    }

    /// Nothing known: every marker that reads a variable is undecided.
    public static let nothing = MarkerFacts(python: nil, values: [:])

    /// What every Pinwheel host is: Linux (`os_name`, `sys_platform`, `platform_system`).
    public static let linuxValues: [Marker.Variable: String] = [.osName: "posix", .sysPlatform: "linux", .platformSystem: "Linux"]

    /// A Linux host, nothing more known.
    public static let linux = MarkerFacts(python: nil, values: linuxValues)

    /// A Linux host running `interpreter` (an absolute path from `python:`).
    public static func linux(interpreter: String) -> MarkerFacts {
        MarkerFacts(python: version(ofInterpreter: interpreter), values: linuxValues)
    }

    /// `3.12` or `3.12.4`, when the version is known.
    public var pythonDescription: String? { python.map { $0.map(String.init).joined(separator: ".") } }

    /// The version an interpreter's path names, read from the last path component that has one: `python3.12`,
    /// `pypy3.10`, a folder `3.12.4` (pyenv) or `cpython-3.12.4-linux-x86_64-gnu` (uv); nil for `python3`.
    public static func version(ofInterpreter path: String) -> [Int]? {
        let pattern = #"^(?:python|pypy|cpython-|pypy-)?([23])\.([0-9]{1,2})(?:\.([0-9]{1,3}))?(?:[-+][A-Za-z0-9_.+-]*)?$"#
        for component in path.split(separator: "/").reversed() {
            let name = String(component)
            guard name.utf8.count <= 100, name.range(of: pattern, options: .regularExpression) != nil else { continue }
            let numbers = name.drop { !$0.isNumber }.prefix { $0.isNumber || $0 == "." }
                .split(separator: ".").prefix(3).compactMap { Int($0) }
            return numbers.count >= 2 ? numbers : nil
        }
        return nil
    }

    /// The values `variable` may have when it is compared with `literal`: one when it is known; several when only
    /// part of it is (the patch level of `python_full_version` when `python:` names `python3.12`), chosen around
    /// `literal` so that the comparison's answer is the same for every value the variable could really have exactly
    /// when it is the same for all of these; nil when unknown.
    func candidates(_ variable: Marker.Variable, near literal: String?) -> [String]? {
        switch variable {
        case .pythonVersion:
            guard let python, python.count >= 2 else { return nil }
            return ["\(python[0]).\(python[1])"]
        case .pythonFullVersion:
            guard let python, python.count >= 2 else { return nil }
            if python.count >= 3 { return [python.prefix(3).map(String.init).joined(separator: ".")] }
            var patches: Set<Int> = [0, 999]
            if let literal, let version = MarkerVersion(literal), version.release.count >= 3 {
                let patch = version.release[2]
                patches.formUnion([max(patch - 1, 0), patch, patch + 1])
            }
            let minor = "\(python[0]).\(python[1])"
            return patches.sorted().map { "\(minor).\($0)" }
        default:
            return values[variable].map { [$0] }
        }
    }
}
