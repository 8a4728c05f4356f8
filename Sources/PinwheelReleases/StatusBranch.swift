import Foundation
import PinwheelCore
import PinwheelGit

/// Where the status branch is read from.
///
/// The controller commits to the local `pinwheel/status` and pushes it; a clone has only
/// `origin/pinwheel/status`. When both exist, the remote-tracking one is read if it is ahead of
/// the local one (the local one is an ancestor: stale), otherwise the local one (it is the same,
/// or has commits not pushed yet). A name that is neither is resolved as a revision.
public enum StatusBranch {
    public static func tip(_ repository: Repository, branch: String) throws -> (ref: String, tip: ObjectID)? {
        let local = try repository.referenceTarget("refs/heads/\(branch)")
        let remote = try repository.referenceTarget("refs/remotes/origin/\(branch)")
        switch (local, remote) {
        case let (local?, remote?):
            if local != remote, try repository.isDescendant(remote, of: local) {
                return ("origin/\(branch)", remote)
            }
            return (branch, local)
        case let (local?, nil):
            return (branch, local)
        case let (nil, remote?):
            return ("origin/\(branch)", remote)
        case (nil, nil):
            if let id = try? repository.resolve(branch) { return (branch, id) }
            return nil
        }
    }

    /// The status of `environment` the status branch has at `tip`; nil when it has none. The one reader of a status
    /// file: `pinwheel status`, `apply`'s admission and the controller all read through it.
    ///
    /// - Throws: ``OperationError/Code/invalid`` when the file cannot be read, or the repository's own errors.
    public static func status(of environment: String, at tip: ObjectID, in repository: Repository) throws -> EnvironmentStatus? {
        let path = EnvironmentStatus.path(of: environment)
        guard let data = try repository.readFile(path, at: tip) else { return nil }
        do {
            return try EnvironmentStatus.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw OperationError(.invalid, "\(path) at \(tip.short) cannot be read: \(error)")
        }
    }

    /// The statuses of `environment` on the status branch as of `tip`, newest first, at most `limit`: each commit
    /// that wrote its status file, as that commit has it. A file that cannot be read is left out.
    public static func statuses(of environment: String, at tip: ObjectID, in repository: Repository,
                                limit: Int) throws -> [EnvironmentStatus] {
        try records(of: environment, at: tip, in: repository, limit: limit).map(\.status)
    }

    /// Like ``statuses(of:at:in:limit:)``, each with the commit that wrote it (whose signature says who did).
    public static func records(of environment: String, at tip: ObjectID, in repository: Repository,
                               limit: Int) throws -> [(commit: ObjectID, status: EnvironmentStatus)] {
        let path = EnvironmentStatus.path(of: environment)
        return try repository.history(of: path, from: tip, limit: limit).compactMap { commit in
            guard let data = try repository.readFile(path, at: commit.id),
                  let status = try? EnvironmentStatus.parse(String(decoding: data, as: UTF8.self)) else { return nil }
            return (commit.id, status)
        }
    }
}
