import Foundation

/// Everything ``Admission`` decides from, gathered beforehand by the git side (ancestry through libgit2, signature
/// verdicts through ssh-keygen and gpgv, the status branch): plain values, so the decision is a pure function and
/// its tests need no repository, no process and no real clock.
public struct AdmissionFacts: Sendable {
    /// The commit last applied to the environment and its desired state there (nil when it cannot be read any more).
    public struct LastApplied: Sendable, Hashable {
        /// Its full id.
        public var commit: String
        public var environment: Environment?

        public init(commit: String, environment: Environment?) {
            self.commit = commit
            self.environment = environment
        }
    }

    /// Whether the commit descends from the last applied one.
    public enum Ancestry: Sendable, Hashable {
        /// Not looked at: nothing was applied before, it is the same commit, or rewrites are allowed.
        case notChecked
        case descends
        /// It does not descend, but a marker commit signed by a trusted key names the last applied commit.
        case acceptedByMarker(commit: String, author: String)
        /// It does not descend (`error` nil), or that could not be shown (`error` says why).
        case diverged(error: String?)
    }

    /// The signatures of the commits from the last applied one to this one.
    public enum Signatures: Sendable, Hashable {
        /// Not checked (no policy requires them, or no trusted key to check them with).
        case notChecked
        case checked(SignedRange.Verdict)
        /// Checking failed: why.
        case unreadable(String)
    }

    /// The statuses of the environment a promotion comes from.
    public enum PromotionSource: Sendable, Hashable {
        /// Not read (the policy has no promotion, or this is a rollback).
        case notRead
        /// Its statuses on the status branch, any order; empty before it has one.
        case observed([PromotionGate.Observed])
        /// Reading them failed: why.
        case unreadable(String)
    }

    /// What would be applied.
    public var desired: Environment
    /// The commit judged, full id; nil when the files are not in a git repository at all (`apply` on a folder).
    public var commit: String?
    /// Paths changed in the work tree on top of `commit` (`apply` without `--rev`); empty for a commit.
    public var uncommitted: [String]
    public var lastApplied: LastApplied?
    /// The environment's quarantined commits, from its status.
    public var quarantined: [String]
    public var ancestry: Ancestry
    public var signatures: Signatures
    public var promotion: PromotionSource
    /// What the time is, for deploy windows and promotion soaks.
    public var now: Date
    /// Accept a commit that does not descend from the last applied one (`--allow-history-rewrite`).
    public var allowHistoryRewrite: Bool
    /// Whether any key is trusted to sign (`--allowed-signers`, `--openpgp-keys`).
    public var trustsKeys: Bool

    public init(desired: Environment, commit: String?, uncommitted: [String] = [], lastApplied: LastApplied? = nil,
                quarantined: [String] = [], ancestry: Ancestry = .notChecked, signatures: Signatures = .notChecked,
                promotion: PromotionSource = .notRead, now: Date, allowHistoryRewrite: Bool = false, trustsKeys: Bool = false) {
        self.desired = desired
        self.commit = commit
        self.uncommitted = uncommitted
        self.lastApplied = lastApplied
        self.quarantined = quarantined
        self.ancestry = ancestry
        self.signatures = signatures
        self.promotion = promotion
        self.now = now
        self.allowHistoryRewrite = allowHistoryRewrite
        self.trustsKeys = trustsKeys
    }
}
