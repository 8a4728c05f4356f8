/// Which of a pin's files the controller ships: the lock names every artifact of a release by hash (a wheel per
/// platform, the sdist); a host installs one of them.
///
/// A pure wheel (`py3-none-any`) serves every host, so it is shipped alone; without one, every listed wheel is (the
/// installer on the host picks the one its platform takes); only without any wheel is the sdist shipped.
public enum ArtifactChoice {
    /// A file name's kind of artifact.
    public enum Kind: Sendable, Equatable {
        case pureWheel
        case wheel
        case sdist

        public init?(of name: String) {
            let lower = name.lowercased()
            if lower.hasSuffix(".whl") {
                self = lower.hasSuffix("-none-any.whl") ? .pureWheel : .wheel
            } else if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".zip") {
                self = .sdist
            } else {
                return nil
            }
        }
    }

    /// A file an index page or a folder offers.
    public struct Candidate: Sendable, Hashable {
        public var name: String
        public var sha256: String
        /// Where to get it: a URL for an index, a path for a folder.
        public var location: String

        public init(name: String, sha256: String, location: String) {
            self.name = name
            self.sha256 = sha256
            self.location = location
        }
    }

    /// The candidates to ship for `pin`: only files whose SHA-256 the pin lists (any other file is not what the lock
    /// names), chosen as the type documentation says; empty when none matches.
    public static func choose(for pin: Pin, from candidates: [Candidate]) -> [Candidate] {
        let wanted = Set(sha256s(of: pin))
        var seen = Set<String>()
        let matching = candidates.filter { wanted.contains($0.sha256) && Kind(of: $0.name) != nil && seen.insert($0.sha256).inserted }
        let pure = matching.filter { Kind(of: $0.name) == .pureWheel }
        if !pure.isEmpty { return [pure[0]] }
        let wheels = matching.filter { Kind(of: $0.name) == .wheel }
        if !wheels.isEmpty { return wheels }
        return Array(matching.prefix(1))
    }

    /// The pin's SHA-256 hashes in lowercase hex (`sha256:…` entries; other algorithms cannot be checked here).
    public static func sha256s(of pin: Pin) -> [String] {
        pin.hashes.compactMap { hash in
            guard hash.lowercased().hasPrefix("sha256:") else { return nil }
            let hex = String(hash.dropFirst("sha256:".count)).lowercased()
            return ShippedArtifact.isSHA256(hex) ? hex : nil
        }
    }
}
