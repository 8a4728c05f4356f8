/// Which of the files an origin offers for the project `uv` is the one a host runs: uv's wheels carry one static
/// binary each, per platform (`uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`), so exactly one
/// wheel of the exact version is shipped to a host, the first (by name) its platform takes.
public enum UVWheelChoice {
    public static func choose(version: String, from candidates: [ArtifactChoice.Candidate],
                              platform: HostPlatform) -> ArtifactChoice.Candidate? {
        candidates
            .filter { $0.name.hasPrefix("uv-\(version)-") && ArtifactChoice.Kind(of: $0.name) == .wheel
                && platform.accepts(wheel: $0.name) && Self.isPlatformTagged($0.name) }
            .sorted { $0.name < $1.name }
            .first
    }

    /// A wheel of one platform (not `any`): a pure-Python `uv` wheel would hold no binary.
    static func isPlatformTagged(_ name: String) -> Bool {
        guard let tags = HostPlatform.platformTags(ofWheel: name) else { return false }
        return !tags.contains("any")
    }
}
