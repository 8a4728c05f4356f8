import Foundation

/// What `pinwheel --version` says: the version, from the repository's VERSION file (embedded in the binary when it
/// is built, so VERSION is the one place it is written), and the commit scripts/package built it from.
enum BuildInfo {
    static let version = String(decoding: PackageResources.VERSION, as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)

    /// The commit scripts/package stamped (`git describe`, with -dirty for a work tree with changes); "unknown" for
    /// a plain `swift build`, which has no stamp.
    static var commit: String {
        #if PINWHEEL_BUILD_STAMP
        stampedCommit
        #else
        "unknown"
        #endif
    }

    /// `0.3.0 (abc1234)`.
    static var description: String { "\(version) (\(commit))" }
}
