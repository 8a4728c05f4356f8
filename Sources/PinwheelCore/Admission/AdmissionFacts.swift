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

    /// An environment whose signature rule also covers some of this one's hosts.
    public struct SigningNeighbour: Sendable, Hashable {
        public var environment: String
        /// A host address both name.
        public var address: String

        public init(environment: String, address: String) {
            self.environment = environment
            self.address = address
        }
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
    /// The operator requires signed commits for every environment (`watch --require-signatures`,
    /// `apply --require-signatures`): a rule from the controller's command line, which no commit can switch off.
    public var operatorRequiresSignatures: Bool
    /// Other environments that share a host with this one and require signatures (at this commit, or as last applied
    /// to them): a host gets the strictest rule of any environment naming it, so an unsigned commit cannot reach a
    /// guarded host by adding an environment of its own.
    public var signingNeighbours: [SigningNeighbour]

    public init(desired: Environment, commit: String?, uncommitted: [String] = [], lastApplied: LastApplied? = nil,
                quarantined: [String] = [], ancestry: Ancestry = .notChecked, signatures: Signatures = .notChecked,
                promotion: PromotionSource = .notRead, now: Date, allowHistoryRewrite: Bool = false, trustsKeys: Bool = false,
                operatorRequiresSignatures: Bool = false, signingNeighbours: [SigningNeighbour] = []) {
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
        self.operatorRequiresSignatures = operatorRequiresSignatures
        self.signingNeighbours = signingNeighbours
    }
}
