import Foundation
import PinwheelCore
import PinwheelGit

/// Reads the config repository at one commit through libgit2, without a work tree.
struct CommitConfigSource: ConfigSource {
    // TODO: wire to PinwheelGit when the git layer lands.
    init(repositoryPath: String, revision: String) throws {
        throw UsageError("--rev is not available yet")
    }

    func readFile(_ path: String) throws -> Data? { nil }
    func entries(of path: String) throws -> [ConfigEntry]? { nil }
}
