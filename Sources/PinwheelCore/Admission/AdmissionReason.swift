/// Why ``Admission`` held a commit back, as a machine-readable code: what statuses record (`reason:`), what `apply
/// --json` prints, what an override names, and what tests assert, instead of the message's wording.
public enum AdmissionReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The commit's rollout halted before: it is never retried by itself (refused).
    case quarantined
    /// The commit does not descend from the last applied one and no signed marker accepts it (refused).
    case historyRewritten
    /// Signatures are required but no trusted key is configured (refused).
    case noTrustedKeys
    /// Signatures are required and what would be applied is not a commit: changes in the work tree, or a folder
    /// that is no git repository (refused; `apply` only, the controller always applies commits).
    case notCommitted
    /// A commit of the range is unsigned, or not signed by a trusted key, and no trusted signer accepts it (refused).
    case unverifiedCommits
    /// The signatures could not be checked (ssh-keygen or gpgv failed, the range could not be walked) (refused).
    case signaturesUnchecked
    /// The promotion's source has not run these pins converged for its soak yet (waits).
    case promotionWaiting
    /// The promotion's source statuses could not be read (waits).
    case promotionUnreadable
    /// The promotion's source halted on these pins (refused).
    case promotionRefused
    /// A deploy window's rule closes the time (waits until it opens).
    case windowClosed
    /// The policy's explicit freeze holds every change (waits until the policy changes).
    case frozen
}
