import Foundation
import PinwheelCore
import PinwheelGit

/// A promotion: copies the source environment's active pins (at the checked-out branch's tip) into the target's idle
/// slot and makes it active, validated before it is committed, to the checked-out branch or to a new branch for a
/// pull request. The commit `promotion: {from:, soak:}` then lets through once the source ran those pins long enough.
///
/// What the source's statuses on the status branch say is checked first, so a person learns at once what the
/// target's controller would say only after the merge: pins the source halted on are refused, and pins it has not run
/// converged (or not for the soak) are committed with a warning.
public struct PromoteCommit: Sendable {
    public var environment: String
    public var source: String
    public var newBranch: String?
    /// The commit message; by default `ENV: promote from SOURCE: NAME VERSION`, then the diff.
    public var message: String?
    /// The branch the controller records statuses on (read as ``StatusBranch`` says).
    public var statusBranch: String
    /// How many of the source's newest statuses are looked at, as the controller does.
    public var statusLimit = 200

    public init(environment: String, from source: String, newBranch: String? = nil, message: String? = nil,
                statusBranch: String = EnvironmentStatus.defaultBranch) {
        self.environment = environment
        self.source = source
        self.newBranch = newBranch
        self.message = message
        self.statusBranch = statusBranch
    }

    /// Commits the promotion in `repository`; `now` is when the soak is measured to.
    ///
    /// - Throws: ``OperationError`` when it cannot be made (nothing is committed then), or the repository's own errors.
    public func commit(in repository: Repository, author: Signature, committer: Signature,
                       now: Date = Date()) throws -> ReleaseCommit.Result {
        let source = self.source
        return try ReleaseCommit.commit(environment, newBranch: newBranch, message: message, in: repository,
                                        author: author, committer: committer, doing: "promotion") { target, text, tip in
            switch try EnvironmentAtCommit.load(source, in: repository, at: tip) {
            case .valid(let from):
                var plan = try ReleasePlan.promote(target, environmentText: text, from: from)
                plan.warnings += try sourceWarnings(target: target, from: from, in: repository, now: now)
                return plan
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

    /// What the source's statuses say of the pins promoted: throws when it halted on them, else the warnings.
    func sourceWarnings(target: Environment, from: Environment, in repository: Repository, now: Date) throws -> [String] {
        let candidate = PromotionGate.Pins(activeOf: from)
        var history: [PromotionGate.Observed] = []
        var whereRead = "on \(statusBranch)"
        if let (_, tip) = try StatusBranch.tip(repository, branch: statusBranch) {
            history = try StatusBranch.statuses(of: source, at: tip, in: repository, limit: statusLimit)
                .compactMap(PromotionGate.Observed.init)
        } else {
            whereRead = "here: there is no \(statusBranch) branch (nor origin/\(statusBranch)); fetch it if the controller runs elsewhere"
        }
        if let halt = PromotionGate.halt(of: candidate, in: history) {
            throw OperationError(.refused, "\(source) halted on these pins (\(candidate)) at "
                                 + "\(Timestamp.string(from: halt.time)), commit \(halt.desired.prefix(10)); "
                                 + "nothing was committed. Promote pins \(source) runs converged: fix the release there first")
        }
        if let gate = target.policy.promotion, gate.from == source {
            let soak = TimeInterval(gate.soak.milliseconds) / 1000
            if case let .waiting(why, _) = PromotionGate.decide(candidate, history: history, from: source, soak: soak, now: now) {
                return ["\(target.name)'s controller will wait before applying this (`promotion: {from: \(source), soak: "
                        + "\(gate.soak)}`): \(why)" + (history.isEmpty ? " (statuses read \(whereRead))" : "")]
            }
            return []
        }
        if case .waiting = PromotionGate.decide(candidate, history: history, from: source, soak: 0, now: now) {
            return ["\(source) has no converged, healthy status with these pins (\(candidate)) \(whereRead); and "
                    + "\(target.name)'s policy has no `promotion: {from: \(source)}`: its controller applies them as soon "
                    + "as this is merged"]
        }
        return []
    }
}
