/// Whether a commit seen while an environment rolls out stops that rollout. A revert pushed after a bad canary must
/// not wait for every remaining batch of the release it reverts: the newer commit the controller would apply wins,
/// at the rollout's next safe point. A commit that would not be applied (it is the same, changes nothing for the
/// environment, is invalid, or admission holds it) never stops a rollout: stopping would leave the fleet half way
/// with nothing to take over.
///
/// Pure: the controller gathers the facts (the desired states read from both commits, admission's verdict) and acts
/// on the decision.
public enum Preemption: Sendable, Hashable {
    /// Stop the running rollout at its next safe point, then reconcile `by`.
    case preempt(by: String)
    /// Let the running rollout go on.
    case keep(Keep)

    /// Why a rollout goes on.
    public enum Keep: Sendable, Hashable {
        /// The commit seen is the one rolling out.
        case sameCommit
        /// The commit changes nothing for this environment: its desired state is the one rolling out.
        case sameDesiredState
        /// The environment's config at the commit is not valid (or could not be read): nothing would be applied.
        case invalid
        /// Admission holds the commit back (a closed window, unverified commits, a quarantined commit, …); the code.
        case held(AdmissionReason)
    }

    /// The decision for `candidate`, the environment's desired commit now, while `running` rolls out.
    /// - Parameters:
    ///   - running: the commit rolling out and its desired state.
    ///   - candidate: the commit the branch points at now and its desired state, nil when invalid or unreadable.
    ///   - verdict: admission's verdict on the candidate; nil when it was not judged (the states are equal or the
    ///     candidate is invalid, which decide first).
    public static func decide(running: (commit: String, environment: Environment),
                              candidate: (commit: String, environment: Environment?),
                              verdict: AdmissionVerdict?) -> Preemption {
        guard candidate.commit != running.commit else { return .keep(.sameCommit) }
        guard let desired = candidate.environment else { return .keep(.invalid) }
        guard desired != running.environment else { return .keep(.sameDesiredState) }
        guard let verdict else { return .keep(.invalid) }
        if let reason = verdict.reason, verdict.holds { return .keep(.held(reason)) }
        return .preempt(by: candidate.commit)
    }

    /// Whether admission needs to judge the candidate: only a valid commit that changes the environment can preempt.
    public static func needsVerdict(running: (commit: String, environment: Environment),
                                    candidate: (commit: String, environment: Environment?)) -> Bool {
        guard candidate.commit != running.commit, let desired = candidate.environment else { return false }
        return desired != running.environment
    }

    public var preempts: Bool {
        if case .preempt = self { return true }
        return false
    }
}

extension Preemption.Keep: CustomStringConvertible {
    /// For the controller's log line: why the running rollout was left to finish.
    public var description: String {
        switch self {
        case .sameCommit: "it is the commit rolling out"
        case .sameDesiredState: "it changes nothing for the environment"
        case .invalid: "its config is not valid for the environment"
        case let .held(reason): "admission holds it (\(reason.rawValue))"
        }
    }
}
