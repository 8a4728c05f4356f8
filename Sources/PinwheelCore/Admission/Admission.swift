import Foundation

/// Whether a commit may be applied to an environment now: the one decision `watch` and `apply` share.
///
/// The rules, in this order, the first that holds deciding:
/// 1. **Quarantine**: a commit whose rollout halted is refused; a new commit is a new decision.
/// 2. **History rewrite**: a commit that does not descend from the last applied one is refused, unless rewrites are
///    allowed or a marker commit signed by a trusted key accepts it (``SignedRange/acceptRewriteTrailer``).
/// 3. **Signatures**: when the operator requires them (`--require-signatures`), or under
///    `verify: {signatures: required}` (at this commit or at the last applied one: an unsigned commit cannot switch
///    the rule off), or when another environment that requires them names one of the same hosts (a host gets the
///    strictest rule), every commit since the last applied one must be signed by a trusted key or accepted by name
///    by one that is (``SignedRange``); no trusted key, or something that is not a commit, refuses.
/// 4. **Promotion**: `promotion: {from, soak}` waits until the source ran these pins converged for the soak, and
///    refuses pins the source halted on. A rollback skips it.
/// 5. **Deploy windows**: a closed window or a freeze makes it wait. A rollback passes unless `rollbacks: windows`.
///
/// Pure: the git side gathers ``AdmissionFacts`` (see `AdmissionGatherer`), the caller acts on the verdict
/// (publishes the held status, notifies, logs). Quarantine is checked first so that a halted commit costs nothing
/// more; the rules that need no person (windows) come last, so a refusal is never hidden behind a wait.
public enum Admission {
    /// The verdict on `facts`: the first rule that holds the commit back, or apply.
    public static func decide(_ facts: AdmissionFacts) -> AdmissionVerdict {
        let all = holds(facts)
        var verdict = all.first ?? AdmissionVerdict(decision: .apply, reason: nil, message: "")
        verdict.rollback = isRollback(facts)
        verdict.notes = notes(facts)
        return verdict
    }

    /// Every rule that holds the commit back, in the order of the rules: what an override overrides.
    public static func holds(_ facts: AdmissionFacts) -> [AdmissionVerdict] {
        [quarantine(facts), rewrite(facts), signatures(facts), promotion(facts), windows(facts)].compactMap { $0 }
    }

    // MARK: What the git side needs to gather

    /// Whether the environment's own policy requires signatures, at this commit or at the last applied one.
    public static func requiresSignatures(_ desired: Environment, lastApplied: AdmissionFacts.LastApplied?) -> Bool {
        desired.policy.verify.requiresSignatures || lastApplied?.environment?.policy.verify.requiresSignatures == true
    }

    /// Whether the signatures rule applies: the operator, the environment's policy, or a neighbour sharing a host
    /// requires them.
    public static func requiresSignatures(_ facts: AdmissionFacts) -> Bool {
        signatureRule(facts) != nil
    }

    /// Who requires signatures for this commit, for messages; nil when nobody does.
    public static func signatureRule(_ facts: AdmissionFacts) -> String? {
        if facts.operatorRequiresSignatures { return "the controller's --require-signatures" }
        if requiresSignatures(facts.desired, lastApplied: facts.lastApplied) { return "verify.signatures in the policy" }
        if let neighbour = facts.signingNeighbours.first {
            return "host \(neighbour.address) is also in \(neighbour.environment), whose policy requires them"
        }
        return nil
    }

    /// Whether `desired` is a rollback from the last applied state: its active slot is the one that was warm there.
    public static func isRollback(_ desired: Environment, lastApplied: AdmissionFacts.LastApplied?) -> Bool {
        lastApplied?.environment.map { desired.isRollback(from: $0) } ?? false
    }

    /// Whether the ancestry of `commit` matters: rewrites are not allowed and something else was applied before.
    public static func checksAncestry(commit: String?, lastApplied: AdmissionFacts.LastApplied?, allowHistoryRewrite: Bool) -> Bool {
        guard !allowHistoryRewrite, let commit, let base = lastApplied?.commit else { return false }
        return base.lowercased() != commit.lowercased()
    }

    /// Whether the promotion's source statuses are needed.
    public static func readsPromotion(_ desired: Environment, lastApplied: AdmissionFacts.LastApplied?) -> Bool {
        desired.policy.promotion != nil && !isRollback(desired, lastApplied: lastApplied)
    }

    static func isRollback(_ facts: AdmissionFacts) -> Bool {
        isRollback(facts.desired, lastApplied: facts.lastApplied)
    }

    // MARK: The rules

    static func quarantine(_ facts: AdmissionFacts) -> AdmissionVerdict? {
        guard let commit = facts.commit, facts.quarantined.contains(where: { $0.lowercased() == commit.lowercased() }) else {
            return nil
        }
        return .refuse(.quarantined, "quarantined: the rollout of \(commit) halted, it is not retried; push a new commit to try again")
    }

    static func rewrite(_ facts: AdmissionFacts) -> AdmissionVerdict? {
        guard checksAncestry(commit: facts.commit, lastApplied: facts.lastApplied, allowHistoryRewrite: facts.allowHistoryRewrite),
              let commit = facts.commit, let base = facts.lastApplied?.commit else { return nil }
        let reason: String
        switch facts.ancestry {
        case .descends, .acceptedByMarker:
            return nil
        case .notChecked:
            // The gatherer should have looked; not knowing is no reason to apply.
            reason = "was not checked to descend from"
        case let .diverged(error):
            reason = error.map { "cannot be shown to descend from (\($0))" } ?? "does not descend from"
        }
        return .refuse(.historyRewritten, "history rewritten: \(commit) \(reason) \(base), the last applied commit; "
            + "nothing applied (watch --allow-history-rewrite, or a commit signed by a key in \(trustedKeyOptions) "
            + "with the trailer \(SignedRange.acceptRewriteTrailer): \(base), accepts it)")
    }

    static func signatures(_ facts: AdmissionFacts) -> AdmissionVerdict? {
        guard let rule = signatureRule(facts) else { return nil }
        guard facts.trustsKeys else {
            return .refuse(.noTrustedKeys, "signatures are required (\(rule)) but the controller trusts no key: "
                + "start watch with --allowed-signers PATH or --openpgp-keys PATH; nothing applied")
        }
        guard let commit = facts.commit else {
            return .refuse(.notCommitted, "signatures are required (\(rule)) but the config is not in a git "
                + "repository: only commits can be verified; nothing applied")
        }
        if !facts.uncommitted.isEmpty {
            let shown = facts.uncommitted.prefix(3).joined(separator: ", ") + (facts.uncommitted.count > 3 ? ", …" : "")
            return .refuse(.notCommitted, "signatures are required (\(rule)) but the work tree has "
                + "uncommitted changes (\(shown)) on top of \(commit): only commits can be verified; commit them, or apply "
                + "a commit with --rev; nothing applied")
        }
        switch facts.signatures {
        case .checked(.clean):
            return nil
        case let .checked(.refused(offences)):
            return .refuse(.unverifiedCommits, SignedRange.message(offences, tip: commit, applied: facts.lastApplied?.commit))
        case let .unreadable(error):
            return .refuse(.signaturesUnchecked, "cannot check the signatures of the commits up to \(commit): \(error); nothing applied")
        case .notChecked:
            return .refuse(.signaturesUnchecked, "the signatures of the commits up to \(commit) were not checked; nothing applied")
        }
    }

    static func promotion(_ facts: AdmissionFacts) -> AdmissionVerdict? {
        guard let promotion = facts.desired.policy.promotion, !isRollback(facts) else { return nil }
        let observed: [PromotionGate.Observed]
        switch facts.promotion {
        case let .observed(statuses):
            observed = statuses
        case let .unreadable(error):
            return .wait(.promotionUnreadable, "cannot read the statuses of \(promotion.from): \(error)")
        case .notRead:
            return .wait(.promotionUnreadable, "the statuses of \(promotion.from) were not read")
        }
        switch PromotionGate.decide(PromotionGate.Pins(activeOf: facts.desired), history: observed, from: promotion.from,
                                    soak: TimeInterval(promotion.soak.milliseconds) / 1000, now: facts.now) {
        case .open:
            return nil
        case let .waiting(message, until):
            return .wait(.promotionWaiting, message, until: until)
        case let .refused(message):
            return .refuse(.promotionRefused, message)
        }
    }

    static func windows(_ facts: AdmissionFacts) -> AdmissionVerdict? {
        let windows = facts.desired.policy.windows
        switch windows.decision(at: facts.now, rollback: isRollback(facts)) {
        case .open:
            return nil
        case let .waiting(rule, opensAt):
            return .wait(windows.freeze == nil ? .windowClosed : .frozen,
                         DeployWindows.message(rule: rule, opensAt: opensAt, freeze: windows.freeze), until: opensAt)
        }
    }

    /// What let the commit through a rule on the way, for the log.
    static func notes(_ facts: AdmissionFacts) -> [AdmissionVerdict.Note] {
        var notes: [AdmissionVerdict.Note] = []
        if checksAncestry(commit: facts.commit, lastApplied: facts.lastApplied, allowHistoryRewrite: facts.allowHistoryRewrite),
           case let .acceptedByMarker(commit, author) = facts.ancestry {
            notes.append(.rewriteAcceptedByMarker(commit: commit, author: author))
        }
        if requiresSignatures(facts), case let .checked(.clean(accepted)) = facts.signatures,
           !accepted.isEmpty {
            notes.append(.unverifiedAccepted(accepted))
        }
        let windows = facts.desired.policy.windows
        if isRollback(facts), windows.rollbacks == .allowed, !windows.rules.isEmpty || windows.freeze != nil {
            notes.append(.rollbackThroughWindows)
        }
        return notes
    }

    /// The options that name the trusted keys, for messages (`TrustedKeys.options` on the git side).
    static let trustedKeyOptions = "--allowed-signers or --openpgp-keys"
}
