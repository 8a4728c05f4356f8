extension HostPlatform {
    /// Whether the wheel named `name` installs on this host, by its platform tags (PEP 425, PEP 600, PEP 656):
    /// `any`; `manylinux_X_Y_<machine>` (and the legacy `manylinux1`, `2010`, `2014`) on a glibc of at least X.Y;
    /// `musllinux_X_Y_<machine>` on a musl of at least X.Y; `linux_<machine>` on any Linux of that machine. A wheel
    /// for another machine or operating system does not. Where the C library or its version is unknown, every Linux
    /// tag of the machine is taken (the host's installer has the last word). The name's other tags (Python, ABI) are
    /// not judged here: the slots' interpreters pick among what is shipped.
    public func accepts(wheel name: String) -> Bool {
        guard let tags = Self.platformTags(ofWheel: name) else { return false }
        return tags.contains { accepts(tag: $0) }
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
