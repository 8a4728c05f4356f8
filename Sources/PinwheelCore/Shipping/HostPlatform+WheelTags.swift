extension HostPlatform {
    /// Whether the wheel named `name` installs on this host, by its platform tags (PEP 425, PEP 600, PEP 656):
    /// `any`; `manylinux_X_Y_<machine>` (and the legacy `manylinux1`, `2010`, `2014`) on a glibc of at least X.Y;
    /// `musllinux_X_Y_<machine>` on a musl of at least X.Y; `linux_<machine>` on any Linux of that machine. A wheel
    /// for another machine or operating system does not. Where the C library or its version is unknown, every Linux
    /// tag of the machine is taken (the host's installer has the last word). With the interpreter known (CPython
    /// `X.Y`), its Python and ABI tags must name it too, as pip's compatible tags do: `cpXY` with its own ABI or
    /// `none`, `cpXW-abi3` for W ≤ Y, `py3`, `pyXW` for W ≤ Y; a wheel whose tags are not of these forms is taken.
    public func accepts(wheel name: String) -> Bool {
        guard let tags = Self.platformTags(ofWheel: name) else { return false }
        return tags.contains { accepts(tag: $0) } && acceptsInterpreter(ofWheel: name)
    }

    /// Whether the wheel's Python and ABI tags take this host's interpreter (see ``accepts(wheel:)``); true when the
    /// interpreter is unknown or not CPython, or the tags are not of a form judged here.
    func acceptsInterpreter(ofWheel name: String) -> Bool {
        guard implementation == "cpython", let python, let (major, minor) = Self.version(python) else { return true }
        let parts = name.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 5 || parts.count == 6 else { return true }
        let pythons = parts[parts.count - 3].lowercased().split(separator: ".")
        let abis = parts[parts.count - 2].lowercased().split(separator: ".")
        return pythons.contains { tag in
            abis.contains { abi in Self.cpython(major, minor, takes: tag, abi: abi) ?? true }
        }
    }

    /// Whether CPython `major.minor` installs a wheel tagged `tag`-`abi` (pip's compatible tags); nil for a form not
    /// judged here.
    static func cpython(_ major: Int, _ minor: Int, takes tag: Substring, abi: Substring) -> Bool? {
        if tag.hasPrefix("cp") {
            guard let version = tagVersion(tag.dropFirst(2)) else { return nil }
            guard version.major == major else { return false }
            if abi == "abi3" { return version.minor <= minor }
            return version.minor == minor && (abi == "none" || abi.hasPrefix("cp\(major)\(minor)"))
        }
        if tag.hasPrefix("py") {
            guard abi == "none" else { return false }
            let digits = tag.dropFirst(2)
            if digits.count == 1, let only = Int(digits) { return only == major }
            guard let version = tagVersion(digits) else { return nil }
            return version.major == major && version.minor <= minor
        }
        if ["pp", "ip", "jy", "graalpy"].contains(where: { tag.hasPrefix($0) }) { return false }
        return nil
    }

    /// The version in a Python tag's digits: `311` is 3.11, `37` is 3.7 (one digit of major version, as PEP 425's
    /// tags for CPython 3 write it).
    static func tagVersion(_ digits: Substring) -> (major: Int, minor: Int)? {
        guard digits.count >= 2, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let major = Int(digits.prefix(1)), let minor = Int(digits.dropFirst()) else { return nil }
        return (major, minor)
    }

    /// The platform tags of a wheel's file name (`a.b` compressed sets split), nil when it is not a wheel's name.
    public static func platformTags(ofWheel name: String) -> [String]? {
        guard name.lowercased().hasSuffix(".whl") else { return nil }
        let parts = name.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 5 || parts.count == 6, let last = parts.last, !last.isEmpty else { return nil }
        return last.split(separator: ".").map { $0.lowercased() }
    }

    func accepts(tag: String) -> Bool {
        if tag == "any" { return true }
        let legacy: [String: (Int, Int)] = ["manylinux1_": (2, 5), "manylinux2010_": (2, 12), "manylinux2014_": (2, 17)]
        for (prefix, version) in legacy where tag.hasPrefix(prefix) {
            return String(tag.dropFirst(prefix.count)) == machine && takes("glibc", version)
        }
        for family in ["manylinux", "musllinux"] where tag.hasPrefix(family + "_") {
            let rest = tag.dropFirst(family.count + 1).split(separator: "_", maxSplits: 2)
            guard rest.count == 3, let major = Int(rest[0]), let minor = Int(rest[1]) else { return false }
            return String(rest[2]) == machine && takes(family == "manylinux" ? "glibc" : "musl", (major, minor))
        }
        if tag.hasPrefix("linux_") { return String(tag.dropFirst("linux_".count)) == machine }
        return false
    }

    /// Whether this host's C library is `family` of at least `version` (unknown parts are taken as yes).
    private func takes(_ family: String, _ version: (Int, Int)) -> Bool {
        guard let libc else { return true }
        guard libc == family else { return false }
        guard let own = libcVersion.flatMap(Self.version) else { return true }
        return own >= version
    }
}
