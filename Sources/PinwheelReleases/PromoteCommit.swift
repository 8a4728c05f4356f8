import Foundation
import PinwheelCore
import PinwheelGit

/// A promotion: copies the source environment's active pins (at the checked-out branch's tip) into the target's idle
/// slot and makes it active, validated before it is committed, to the checked-out branch or to a new branch for a
/// pull request. The commit `promotion: {from:, soak:}` then lets through once the source ran those pins long enough.
public struct PromoteCommit: Sendable {
    public var environment: String
    public var source: String
    public var newBranch: String?
    /// The commit message; by default `ENV: promote from SOURCE: NAME VERSION`, then the diff.
    public var message: String?

    public init(environment: String, from source: String, newBranch: String? = nil, message: String? = nil) {
        self.environment = environment
        self.source = source
        self.newBranch = newBranch
        self.message = message
    }

    /// Commits the promotion in `repository`.
    ///
    /// - Throws: ``OperationError`` when it cannot be made (nothing is committed then), or the repository's own errors.
    public func commit(in repository: Repository, author: Signature, committer: Signature) throws -> ReleaseCommit.Result {
        let source = self.source
        return try ReleaseCommit.commit(environment, newBranch: newBranch, message: message, in: repository,
                                        author: author, committer: committer, doing: "promotion") { target, text, tip in
            switch try EnvironmentAtCommit.load(source, in: repository, at: tip) {
            case .valid(let from):
                return try ReleasePlan.promote(target, environmentText: text, from: from)
            case .invalid(let diagnostics):
                throw OperationError(.invalid, "\(source) is not valid at \(tip.short); fix it before promoting from it:",
                                     diagnostics: diagnostics)
            case .missing:
                throw OperationError(.usage, "no environment `\(source)` at \(tip.short) to promote from")
            }
        } defaultMessage: { plan, diff in
            ReleasePlan.promotionMessage(environment: environment, source: source, changes: plan.changes, diff: diff)
        }
    }
}
