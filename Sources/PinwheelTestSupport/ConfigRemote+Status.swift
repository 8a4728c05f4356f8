import Foundation
import PinwheelCore
import PinwheelGit

extension ConfigRemote {
    /// The newest status of `environment` on the remote's status branch, read through libgit2; nil before the
    /// controller wrote one.
    public func status(of environment: String, branch: String = EnvironmentStatus.defaultBranch) throws -> EnvironmentStatus? {
        let repository = try Repository(openingAt: remote)
        guard let tip = try? repository.resolve("refs/heads/\(branch)"),
              let data = try repository.readFile(EnvironmentStatus.path(of: environment), at: tip) else { return nil }
        return try EnvironmentStatus.parse(String(decoding: data, as: UTF8.self))
    }
}
