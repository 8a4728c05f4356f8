import Foundation

/// What ``Admission`` decided for a commit: apply it, let it wait, or refuse it, why (a code and the message a
/// person reads), and what let it through on the way (``Note``), for the caller to log.
public struct AdmissionVerdict: Sendable, Hashable {
    public enum Decision: String, Sendable, Hashable, Codable {
        /// Nothing holds it: roll it out.
        case apply
        /// Held until something changes by itself (a window opens, the promotion's soak ends): looked at again.
        case wait
        /// Held until someone pushes a new commit (or changes the controller's settings).
        case refuse
    }

    /// Something that let the commit through a rule, worth a line in the log.
    public enum Note: Sendable, Hashable {
        /// The history was rewritten, and a marker commit signed by a trusted key accepts it.
        case rewriteAcceptedByMarker(commit: String, author: String)
        /// Unverified commits of the range that a trusted signer accepted by name.
        case unverifiedAccepted([String])
        /// A rollback to the warm slot that the deploy windows let through.
        case rollbackThroughWindows
    }

    public var decision: Decision
    /// Nil exactly when the decision is ``Decision/apply``.
    public var reason: AdmissionReason?
    /// The status message (empty when applied).
    public var message: String
    /// When a wait ends by itself, when the rule can say (the window opens, the soak ends).
    public var until: Date?
    /// Whether the commit is a rollback to the slot that was warm in the last applied state.
    public var rollback: Bool
    public var notes: [Note]

    public init(decision: Decision, reason: AdmissionReason?, message: String, until: Date? = nil, rollback: Bool = false,
                notes: [Note] = []) {
        self.decision = decision
        self.reason = reason
        self.message = message
        self.until = until
        self.rollback = rollback
        self.notes = notes
    }

    /// Held back, waiting or refused.
    public var holds: Bool { decision != .apply }

    static func refuse(_ reason: AdmissionReason, _ message: String) -> AdmissionVerdict {
        AdmissionVerdict(decision: .refuse, reason: reason, message: message)
    }

    static func wait(_ reason: AdmissionReason, _ message: String, until: Date? = nil) -> AdmissionVerdict {
        AdmissionVerdict(decision: .wait, reason: reason, message: message, until: until)
    }
}
