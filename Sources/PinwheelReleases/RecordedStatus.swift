import PinwheelCore
import PinwheelGit

/// What the controller last recorded for an environment: `Environments/<env>/status.yaml` at the tip of the
/// status branch (see ``StatusBranch``).
public struct RecordedStatus: Sendable {
    /// The ref read: the branch, or `origin/<branch>`.
    public var ref: String
    /// The status branch's tip.
    public var tip: ObjectID
    /// The newest commit that wrote the status file.
    public var commit: ObjectID
    public var status: EnvironmentStatus

    /// Reads `environment`'s status from `branch`.
    ///
    /// - Throws: ``OperationError/Code/notFound`` when there is no status branch or no status for the
    ///   environment on it, ``OperationError/Code/invalid`` when the file cannot be read, or the repository's
    ///   own errors.
    public static func read(_ environment: String, in repository: Repository,
                            branch: String = EnvironmentStatus.defaultBranch) throws -> RecordedStatus {
        guard let (ref, tip) = try StatusBranch.tip(repository, branch: branch) else {
            throw OperationError(.notFound, "\(environment) has no status yet: there is no \(branch) branch (nor origin/\(branch)); "
                                 + "the controller writes it after its first run (fetch it if it runs elsewhere)")
        }
        let path = EnvironmentStatus.path(of: environment)
        guard let status = try StatusBranch.status(of: environment, at: tip, in: repository) else {
            throw OperationError(.notFound, "\(environment) has no status yet: \(ref) (\(tip.short)) has no \(path)")
        }
        let commit = try repository.history(of: path, from: tip, limit: 1).first?.id ?? tip
        return RecordedStatus(ref: ref, tip: tip, commit: commit, status: status)
    }
}
