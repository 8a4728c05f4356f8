import Foundation
import Testing
@testable import PinwheelCore

/// Admission's rules one at a time and in their order, from facts built by hand and a clock the test sets: no
/// repository, no process. Each row asserts the decision and its code, never the wording.
@Suite("Admission")
struct AdmissionTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static let tip = String(repeating: "a", count: 40)
    static let base = String(repeating: "b", count: 40)
    static let marker = String(repeating: "c", count: 40)
    /// Midday on a Friday, UTC.
    static let noon = at("2026-11-20T12:00:00Z")

    static func environment(active: Slot, a: String, b: String) throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: \(active)")
        files[Fixture.slotAPath] = "hello-service==\(a)\n"
        files[Fixture.slotBPath] = "hello-service==\(b)\n"
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    /// What runs now: 1.1.0 in slot B, 1.0.0 warm in A.
    static func released() throws -> Environment { try environment(active: .b, a: "1.0.0", b: "1.1.0") }
    /// A release of 1.2.0 into the idle slot A.
    static func release() throws -> Environment { try environment(active: .a, a: "1.2.0", b: "1.1.0") }
    /// Back to the warm slot A: a rollback from ``released()``.
    static func rollback() throws -> Environment { try environment(active: .a, a: "1.0.0", b: "1.1.0") }

    // MARK: Policies

    static let closedAllDay = DeployWindows(rules: [DeployWindows.Rule(.deny, from: .init(hour: 0, minute: 0), to: .init(hour: 0, minute: 0),
                                                                       zone: "UTC")])
    /// Open from 14:00 UTC: closed at ``noon``.
    static let afternoonsOnly = DeployWindows(rules: [DeployWindows.Rule(.allow, from: .init(hour: 14, minute: 0), to: .init(hour: 18, minute: 0),
                                                                         zone: "UTC")])

    static func signed(_ environment: Environment) -> Environment {
        var copy = environment
        copy.policy.verify = Verification(signatures: .required)
        return copy
    }

    static func windows(_ windows: DeployWindows, _ environment: Environment) -> Environment {
        var copy = environment
        copy.policy.windows = windows
        return copy
    }

    static func promoted(_ environment: Environment) -> Environment {
        var copy = environment
        copy.policy.promotion = Promotion(from: "staging", soak: .seconds(1800))
        return copy
    }

    // MARK: Facts

    static func unsigned(_ id: String = tip) -> SignedRange.Commit {
        SignedRange.Commit(id: id, author: "Mallory <m@example.com>", summary: "notes", signature: .unsigned)
    }

    static let cleanRange = AdmissionFacts.Signatures.checked(.clean(accepted: []))
    static let unsignedRange = AdmissionFacts.Signatures.checked(SignedRange.verdict([unsigned()]))

    /// Staging's statuses for ``release()``'s pins: converged since `since`.
    static func staging(since: String, result: EnvironmentStatus.Result = .converged) throws -> AdmissionFacts.PromotionSource {
        .observed([PromotionGate.Observed(time: at(since), result: result, ran: PromotionGate.Pins(activeOf: try release()),
                                          healthy: true, desired: String(repeating: "d", count: 40))])
    }

    /// A release on top of ``released()``, descending from it, signatures checked: every rule lets it through.
    static func facts(_ desired: Environment? = nil, now: Date = noon,
                      _ edit: (inout AdmissionFacts) throws -> Void = { _ in }) throws -> AdmissionFacts {
        var facts = AdmissionFacts(desired: try desired ?? release(), commit: tip,
                                   lastApplied: .init(commit: base, environment: try released()),
                                   ancestry: .descends, signatures: cleanRange, promotion: .observed([]), now: now,
                                   trustsKeys: true)
        try edit(&facts)
        return facts
    }

    // MARK: The table

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: @Sendable () throws -> AdmissionFacts
        var decision: AdmissionVerdict.Decision
        var reason: AdmissionReason?

        init(_ name: String, _ decision: AdmissionVerdict.Decision, _ reason: AdmissionReason?,
             _ facts: @escaping @Sendable () throws -> AdmissionFacts) {
            self.name = name
            self.facts = facts
            self.decision = decision
            self.reason = reason
        }

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case("a descending release with nothing in the way applies", .apply, nil) { try facts() },
        Case("the first commit ever applies (nothing to descend from)", .apply, nil) {
            try facts { $0.lastApplied = nil; $0.ancestry = .notChecked }
        },

        // Quarantine
        Case("a quarantined commit is refused", .refuse, .quarantined) { try facts { $0.quarantined = [tip] } },
        Case("a quarantined commit is recognised whatever the case", .refuse, .quarantined) {
            try facts { $0.quarantined = [tip.uppercased()] }
        },
        Case("another commit's quarantine holds nothing", .apply, nil) { try facts { $0.quarantined = [marker] } },
        Case("files outside git cannot be quarantined", .apply, nil) {
            try facts { $0.commit = nil; $0.quarantined = [tip]; $0.lastApplied = nil }
        },

        // History rewrite
        Case("a commit that does not descend is refused", .refuse, .historyRewritten) { try facts { $0.ancestry = .diverged(error: nil) } },
        Case("ancestry that cannot be shown is refused", .refuse, .historyRewritten) {
            try facts { $0.ancestry = .diverged(error: "object not found") }
        },
        Case("ancestry nobody checked is refused, not assumed", .refuse, .historyRewritten) { try facts { $0.ancestry = .notChecked } },
        Case("--allow-history-rewrite accepts a rewrite", .apply, nil) {
            try facts { $0.ancestry = .diverged(error: nil); $0.allowHistoryRewrite = true }
        },
        Case("a signed marker accepts a rewrite", .apply, nil) {
            try facts { $0.ancestry = .acceptedByMarker(commit: marker, author: "Alice <a@example.com>") }
        },
        Case("the last applied commit itself needs no ancestry", .apply, nil) {
            try facts { $0.commit = base; $0.ancestry = .notChecked }
        },

        // Signatures
        Case("optional signatures are not looked at", .apply, nil) { try facts { $0.signatures = unsignedRange } },
        Case("required signatures over an unsigned range refuse", .refuse, .unverifiedCommits) {
            try facts(signed(release())) { $0.signatures = unsignedRange }
        },
        Case("a rule at the last applied commit still holds when the tip drops it", .refuse, .unverifiedCommits) {
            try facts { $0.lastApplied?.environment = signed(try released()); $0.signatures = unsignedRange }
        },
        Case("a signed range applies", .apply, nil) { try facts(signed(release())) },
        Case("an unsigned commit accepted by a trusted signer applies", .apply, nil) {
            try facts(signed(release())) { $0.signatures = .checked(.clean(accepted: [tip])) }
        },
        Case("no trusted key refuses", .refuse, .noTrustedKeys) { try facts(signed(release())) { $0.trustsKeys = false } },
        Case("signatures that could not be checked refuse", .refuse, .signaturesUnchecked) {
            try facts(signed(release())) { $0.signatures = .unreadable("ssh-keygen timed out") }
        },
        Case("signatures nobody checked refuse", .refuse, .signaturesUnchecked) {
            try facts(signed(release())) { $0.signatures = .notChecked }
        },
        Case("changes in the work tree cannot be verified", .refuse, .notCommitted) {
            try facts(signed(release())) { $0.uncommitted = ["Environments/prod/A.txt"] }
        },
        Case("files outside git cannot be verified", .refuse, .notCommitted) {
            try facts(signed(release())) { $0.commit = nil; $0.lastApplied = nil }
        },
        Case("the operator's --require-signatures covers a policy without verify", .refuse, .unverifiedCommits) {
            try facts { $0.operatorRequiresSignatures = true; $0.signatures = unsignedRange }
        },
        Case("the operator's rule with a signed range applies", .apply, nil) { try facts { $0.operatorRequiresSignatures = true } },
        Case("the operator's rule with no trusted key refuses", .refuse, .noTrustedKeys) {
            try facts { $0.operatorRequiresSignatures = true; $0.trustsKeys = false }
        },
        Case("the operator's rule covers a new environment's first commit", .refuse, .unverifiedCommits) {
            try facts { $0.operatorRequiresSignatures = true; $0.lastApplied = nil; $0.ancestry = .notChecked; $0.signatures = unsignedRange }
        },
        Case("a host shared with a signing environment gets its rule", .refuse, .unverifiedCommits) {
            try facts {
                $0.lastApplied = nil; $0.ancestry = .notChecked; $0.signatures = unsignedRange
                $0.signingNeighbours = [.init(environment: "production", address: "10.0.0.1")]
            }
        },
        Case("a shared host's rule with a signed range applies", .apply, nil) {
            try facts { $0.signingNeighbours = [.init(environment: "production", address: "10.0.0.1")] }
        },
        Case("changes in the work tree are fine when no signature is required", .apply, nil) {
            try facts { $0.uncommitted = ["Environments/prod/A.txt"] }
        },

        // Promotion
        Case("a promotion waits for a source with no status", .wait, .promotionWaiting) { try facts(promoted(release())) },
        Case("a promotion waits while the source soaks", .wait, .promotionWaiting) {
            try facts(promoted(release())) { $0.promotion = try staging(since: "2026-11-20T11:45:00Z") }
        },
        Case("a promotion opens after the soak", .apply, nil) {
            try facts(promoted(release())) { $0.promotion = try staging(since: "2026-11-20T11:00:00Z") }
        },
        Case("pins the source halted on are refused", .refuse, .promotionRefused) {
            try facts(promoted(release())) { $0.promotion = try staging(since: "2026-11-20T11:00:00Z", result: .halted) }
        },
        Case("unreadable source statuses wait", .wait, .promotionUnreadable) {
            try facts(promoted(release())) { $0.promotion = .unreadable("no such reference") }
        },
        Case("unread source statuses wait, not pass", .wait, .promotionUnreadable) {
            try facts(promoted(release())) { $0.promotion = .notRead }
        },
        Case("a rollback skips the promotion", .apply, nil) {
            try facts(promoted(rollback())) { $0.promotion = .notRead }
        },

        // Deploy windows
        Case("a closed window waits", .wait, .windowClosed) { try facts(windows(afternoonsOnly, release())) },
        Case("an open window applies", .apply, nil) {
            try facts(windows(afternoonsOnly, release()), now: at("2026-11-20T15:00:00Z"))
        },
        Case("a freeze waits", .wait, .frozen) { try facts(windows(DeployWindows(freeze: "black friday"), release())) },
        Case("a rollback passes a closed window", .apply, nil) { try facts(windows(closedAllDay, rollback())) },
        Case("a rollback passes a freeze", .apply, nil) { try facts(windows(DeployWindows(freeze: "black friday"), rollback())) },
        Case("rollbacks: windows makes a rollback wait too", .wait, .windowClosed) {
            try facts(windows(DeployWindows(rules: closedAllDay.rules, rollbacks: .windows), rollback()))
        },

        // The order: the first rule that holds decides.
        Case("quarantine comes before everything", .refuse, .quarantined) {
            try facts(promoted(windows(closedAllDay, signed(release())))) {
                $0.quarantined = [tip]; $0.ancestry = .diverged(error: nil); $0.signatures = unsignedRange
            }
        },
        Case("a rewrite comes before signatures", .refuse, .historyRewritten) {
            try facts(promoted(windows(closedAllDay, signed(release())))) {
                $0.ancestry = .diverged(error: nil); $0.signatures = unsignedRange
            }
        },
        Case("signatures come before the promotion", .refuse, .unverifiedCommits) {
            try facts(promoted(windows(closedAllDay, signed(release())))) { $0.signatures = unsignedRange }
        },
        Case("the promotion comes before the windows", .wait, .promotionWaiting) {
            try facts(promoted(windows(closedAllDay, release())))
        },
        Case("a refused promotion is not hidden behind a closed window", .refuse, .promotionRefused) {
            try facts(promoted(windows(closedAllDay, release()))) {
                $0.promotion = try staging(since: "2026-11-20T11:00:00Z", result: .halted)
            }
        },
    ]

    @Test(arguments: cases)
    func decides(_ row: Case) throws {
        let verdict = Admission.decide(try row.facts())
        #expect(verdict.decision == row.decision)
        #expect(verdict.reason == row.reason)
        #expect(verdict.holds == (row.reason != nil))
        #expect(verdict.message.isEmpty == (row.reason == nil), "a hold says why; an apply says nothing")
    }

    // MARK: Beyond the table

    @Test func aSignatureRefusalNamesWhoseRuleItIs() throws {
        let operatorRule = Admission.decide(try Self.facts { $0.operatorRequiresSignatures = true; $0.trustsKeys = false })
        #expect(operatorRule.message.contains("--require-signatures"))
        let neighbour = Admission.decide(try Self.facts {
            $0.trustsKeys = false
            $0.signingNeighbours = [.init(environment: "production", address: "10.0.0.9")]
        })
        #expect(neighbour.message.contains("production") && neighbour.message.contains("10.0.0.9"))
        #expect(Admission.signatureRule(try Self.facts()) == nil, "nobody requires them: no rule to name")
    }

    @Test func holdsListsEveryRuleInOrder() throws {
        let facts = try Self.facts(Self.promoted(Self.windows(Self.closedAllDay, Self.signed(Self.release())))) {
            $0.quarantined = [Self.tip]; $0.ancestry = .diverged(error: nil); $0.signatures = Self.unsignedRange
        }
        #expect(Admission.holds(facts).map(\.reason) == [.quarantined, .historyRewritten, .unverifiedCommits, .promotionWaiting, .windowClosed])
        #expect(Admission.decide(facts).reason == Admission.holds(facts).first?.reason)
    }

    @Test func aClosedWindowSaysWhenItOpens() throws {
        let verdict = Admission.decide(try Self.facts(Self.windows(Self.afternoonsOnly, Self.release())))
        #expect(verdict.until == Self.at("2026-11-20T14:00:00Z"))
        #expect(verdict.message == DeployWindows.message(rule: "outside allow every day 14:00-18:00 UTC", opensAt: verdict.until, freeze: nil))
        #expect(Admission.decide(try Self.facts(Self.windows(DeployWindows(freeze: "audit"), Self.release()))).until == nil)
    }

    @Test func aSoakSaysWhenItEnds() throws {
        let verdict = Admission.decide(try Self.facts(Self.promoted(Self.release())) {
            $0.promotion = try Self.staging(since: "2026-11-20T11:45:00Z")
        })
        #expect(verdict.until == Self.at("2026-11-20T12:15:00Z"))
    }

    @Test func aRefusedRewriteNamesBothCommitsAsTheControllerAlwaysHas() throws {
        let verdict = Admission.decide(try Self.facts { $0.ancestry = .diverged(error: nil) })
        #expect(verdict.message == "history rewritten: \(Self.tip) does not descend from \(Self.base), the last applied commit; "
            + "nothing applied (watch --allow-history-rewrite, or a commit signed by a key in --allowed-signers or --openpgp-keys "
            + "with the trailer Pinwheel-Accept-Rewrite: \(Self.base), accepts it)")
    }

    @Test func anUnsignedRangeSaysWhatSignedRangeSays() throws {
        let verdict = Admission.decide(try Self.facts(Self.signed(Self.release())) { $0.signatures = Self.unsignedRange })
        guard case let .checked(.refused(offences)) = Self.unsignedRange else { Issue.record("not refused"); return }
        #expect(verdict.message == SignedRange.message(offences, tip: Self.tip, applied: Self.base))
    }

    @Test func whatLetACommitThroughIsNoted() throws {
        let marked = Admission.decide(try Self.facts { $0.ancestry = .acceptedByMarker(commit: Self.marker, author: "Alice <a@example.com>") })
        #expect(marked.notes == [.rewriteAcceptedByMarker(commit: Self.marker, author: "Alice <a@example.com>")])
        let accepted = Admission.decide(try Self.facts(Self.signed(Self.release())) { $0.signatures = .checked(.clean(accepted: [Self.tip])) })
        #expect(accepted.notes == [.unverifiedAccepted([Self.tip])])
        let rollback = Admission.decide(try Self.facts(Self.windows(Self.closedAllDay, Self.rollback())))
        #expect(rollback.rollback && rollback.notes == [.rollbackThroughWindows])
        #expect(Admission.decide(try Self.facts()).notes.isEmpty)
    }

    @Test func theGathererIsToldOnlyWhatARuleWillLookAt() throws {
        let last = AdmissionFacts.LastApplied(commit: Self.base, environment: try Self.released())
        #expect(!Admission.checksAncestry(commit: Self.base, lastApplied: last, allowHistoryRewrite: false), "the same commit")
        #expect(!Admission.checksAncestry(commit: Self.tip, lastApplied: last, allowHistoryRewrite: true))
        #expect(!Admission.checksAncestry(commit: Self.tip, lastApplied: nil, allowHistoryRewrite: false))
        #expect(Admission.checksAncestry(commit: Self.tip, lastApplied: last, allowHistoryRewrite: false))
        #expect(!Admission.requiresSignatures(try Self.release(), lastApplied: last))
        #expect(Admission.requiresSignatures(Self.signed(try Self.release()), lastApplied: nil))
        #expect(Admission.readsPromotion(Self.promoted(try Self.release()), lastApplied: last))
        #expect(!Admission.readsPromotion(Self.promoted(try Self.rollback()), lastApplied: last), "a rollback skips it")
        #expect(!Admission.readsPromotion(try Self.release(), lastApplied: last))
    }
}
