import Foundation
import PinwheelCore
import PinwheelGit

/// A release: pins new versions in an environment's idle slot, makes it the active one, validates exactly
/// what will be committed, and commits it to the checked-out branch (updating the work tree) or to a new
/// branch made from its tip (for a pull request).
public struct ReleaseCommit: Sendable {
    public var environment: String
    public var changes: [ReleasePlan.Change]
    /// Commit to this new branch instead of the checked-out one.
    public var newBranch: String?
    /// The commit message; by default `ENV: release NAME VERSION`, then the diff.
    public var message: String?

    public init(environment: String, changes: [ReleasePlan.Change], newBranch: String? = nil, message: String? = nil) {
        self.environment = environment
        self.changes = changes
        self.newBranch = newBranch
        self.message = message
    }

    /// What was committed.
    public struct Result: Sendable {
        public var commit: ObjectID
        /// The branch the commit is on.
        public var branch: String
        /// What changed in the desired state, one line each.
        public var diff: [String]
        /// Things worth saying about the release that did not stop it.
        public var warnings: [String]
        /// Set when the commit was made but the checked-out work tree could not be brought up to date.
        public var workTreeError: GitError?
    }

    /// Commits the release in `repository`.
    ///
    /// - Throws: ``OperationError`` when the release cannot be made (nothing is committed then), or the
    ///   repository's own errors.
    public func commit(in repository: Repository, author: Signature, committer: Signature) throws -> Result {
        guard !changes.isEmpty else { throw OperationError(.usage, "name at least one NAME==VERSION to release") }
        return try Self.commit(environment, newBranch: newBranch, message: message, in: repository,
                               author: author, committer: committer, doing: "release") { before, text, _ in
            try ReleasePlan.make(environment: before, environmentText: text, changes: changes)
        } defaultMessage: { plan, diff in
            ReleasePlan.defaultMessage(environment: environment, changes: plan.changes, diff: diff)
        }
    }

    /// Plans a change of `environment` at the checked-out branch's tip with `plan` (given the environment, the text of
    /// its environment.yaml and the tip), validates exactly what will be committed, and commits it to the checked-out
    /// branch (updating the work tree) or to `newBranch`. What `release` and `promote` share.
    static func commit(_ environment: String, newBranch: String?, message: String?, in repository: Repository,
                       author: Signature, committer: Signature, doing what: String,
                       plan makePlan: (Environment, String, ObjectID) throws -> ReleasePlan,
                       defaultMessage: (ReleasePlan, [String]) -> String) throws -> Result {
        let (current, tip) = try repository.checkedOutBranch()
        if let newBranch, try repository.branchTip(newBranch) != nil {
            throw OperationError(.usage, "branch \(newBranch) already exists: name a new branch")
        }

        let before: Environment
        switch try EnvironmentAtCommit.load(environment, in: repository, at: tip) {
        case .valid(let environment):
            before = environment
        case .invalid(let diagnostics):
            throw OperationError(.invalid, "\(environment) is not valid at \(current) (\(tip.short)); fix it before the \(what):",
                                 diagnostics: diagnostics)
        case .missing:
            throw OperationError(.usage, "no environment `\(environment)` at \(current) (\(tip.short))")
        }
        let environmentPath = ReleasePlan.environmentPath(environment)
        guard let text = try repository.readFile(environmentPath, at: tip).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw OperationError(.usage, "cannot read \(environmentPath) at \(tip.short)")
        }
        let plan: ReleasePlan
        do {
            plan = try makePlan(before, text, tip)
        } catch let error as ReleaseError {
            throw OperationError(.refused, "\(error)")
        }

        // Validate exactly what will be committed.
        let overlay = plan.files.mapValues { Data($0.utf8) }
        let loadedAfter = try EnvironmentAtCommit.load(environment, in: repository, at: tip, overlay: overlay)
        guard let after = loadedAfter.environment else {
            var diagnostics: [Diagnostic] = []
            if case .invalid(let found) = loadedAfter { diagnostics = found }
            throw OperationError(.invalid, "the \(what) would make \(environment) invalid; nothing was committed:",
                                 diagnostics: diagnostics)
        }
        let diff = EnvironmentDiff.changes(from: before, to: after)
        let commitMessage = message.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" } ?? defaultMessage(plan, diff)
        let fileChanges = plan.files.keys.sorted().map { FileChange.write($0, Data(plan.files[$0]!.utf8)) }

        var result = Result(commit: tip, branch: newBranch ?? current, diff: diff, warnings: plan.warnings)
        if let newBranch {
            try repository.setReference("refs/heads/\(newBranch)", to: tip, logMessage: "pinwheel \(what): branch from \(current)")
            do {
                result.commit = try repository.commit(changes: fileChanges, onBranch: newBranch, message: commitMessage,
                                                      author: author, committer: committer, expectedParent: .some(tip))
            } catch {
                try? repository.deleteReference("refs/heads/\(newBranch)")
                throw error
            }
        } else {
            try repository.requireCleanWorkTree(branch: current, paths: plan.files.keys.sorted())
            result.commit = try repository.commit(changes: fileChanges, onBranch: current, message: commitMessage,
                                                  author: author, committer: committer, expectedParent: .some(tip))
            result.workTreeError = repository.syncWorkTree(branch: current, previous: tip)
        }
        return result
    }
}
