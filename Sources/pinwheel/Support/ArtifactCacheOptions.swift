import ArgumentParser
import Foundation
import PinwheelFleet

/// Where the controller keeps the files it ships to hosts (`source: {ship: …}`): the operator's choice, never the
/// config's (a commit must not choose where the controller writes).
struct ArtifactCacheOptions: ParsableArguments {
    @Option(name: .customLong("artifact-cache"),
            help: ArgumentHelp("Where the files shipped to hosts (source: {ship: …}) are kept, by SHA-256 (default ~/.cache/pinwheel/artifacts).",
                               valueName: "path"))
    var artifactCache: String?

    /// The cache these options name, or the default one.
    var cache: ArtifactCache {
        ArtifactCache(folder: artifactCache.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? ArtifactCache.defaultFolder())
    }
}
