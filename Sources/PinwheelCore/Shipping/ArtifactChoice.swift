/// Which of a pin's files the controller ships: the lock names every artifact of a release by hash (a wheel per
/// platform, the sdist); a host installs one of them.
///
/// A pure wheel (`py3-none-any`) serves every host, so it is the only file fetched; without one, every listed wheel
/// and the sdist are fetched into the controller's cache, and each host is sent only what it can install
/// (``forHost(_:platform:)``): the wheels its platform takes, the sdist only when none does.
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
        return wheels + matching.filter { Kind(of: $0.name) == .sdist }.prefix(1)
    }

    /// Of one pin's files (as ``choose(for:from:)`` chose them), those to send a host of `platform`: a pure wheel
    /// alone; else the wheels the platform takes, and only when it takes none, the sdist (built on the host). A host
    /// whose platform is unknown gets every wheel (the sdist only without any), as its installer picks; a host that
    /// takes none of the wheels and has no sdist to build gets every wheel too, so its installer names what it lacks.
    public static func forHost(_ files: [ShippedArtifact], platform: HostPlatform?) -> [ShippedArtifact] {
        if let pure = files.first(where: { Kind(of: $0.name) == .pureWheel }) { return [pure] }
        let wheels = files.filter { Kind(of: $0.name) == .wheel }
        let sdist = files.filter { Kind(of: $0.name) == .sdist }.prefix(1)
        guard let platform else { return wheels.isEmpty ? Array(sdist) : wheels }
        let taken = wheels.filter { platform.accepts(wheel: $0.name) }
        if !taken.isEmpty { return taken }
        return sdist.isEmpty ? wheels : Array(sdist)
    }

    /// Of a slot's pins, those a host of `platform` installs: a pin whose marker is false there (the alternative of a
    /// marker-split pin for another interpreter, machine or system) is not shipped; one whose marker depends on what
    /// is not known is, and the host's installer decides. Nothing known of the host: only Linux is.
    public static func pins(_ pins: [Pin], for platform: HostPlatform?) -> [Pin] {
        let facts = platform?.markerFacts ?? .linux
        return pins.filter { $0.applies(facts) != false }
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
