import Foundation
import Testing
@testable import PinwheelCore

/// When a commit seen during a rollout stops it: from admission's real verdicts on facts built by hand (the same
/// fixtures as ``AdmissionTests``), no repository and no process.
@Suite("Preemption")
struct PreemptionTests {
    /// 1.1.0 rolling out into slot B, at ``AdmissionTests/base``.
    static func running() throws -> (commit: String, environment: Environment) {
        (AdmissionTests.base, try AdmissionTests.released())
    }

    static func decide(_ desired: Environment?, commit: String = AdmissionTests.tip,
                       _ edit: (inout AdmissionFacts) throws -> Void = { _ in }) throws -> Preemption {
        let running = try running()
        let candidate = (commit: commit, environment: desired)
        let verdict = try desired.map { Admission.decide(try AdmissionTests.facts($0, edit)) }
        return Preemption.decide(running: running, candidate: candidate, verdict: verdict)
    }

    @Test func aRevertOfTheReleaseRollingOutPreemptsIt() throws {
        #expect(try Self.decide(AdmissionTests.rollback()) == .preempt(by: AdmissionTests.tip))
    }

    @Test func aRevertPreemptsEvenWhenTheDeployWindowIsClosed() throws {
        // Admission lets a rollback to the warm slot through closed windows; so does preemption.
        let revert = AdmissionTests.windows(AdmissionTests.closedAllDay, try AdmissionTests.rollback())
        #expect(try Self.decide(revert) == .preempt(by: AdmissionTests.tip))
    }

    @Test func aNewerAdmittedReleasePreempts() throws {
        #expect(try Self.decide(AdmissionTests.release()).preempts)
    }

    @Test func aReleaseTheWindowHoldsDoesNotPreempt() throws {
        let held = AdmissionTests.windows(AdmissionTests.closedAllDay, try AdmissionTests.release())
        #expect(try Self.decide(held) == .keep(.held(.windowClosed)))
    }

    @Test func aQuarantinedCommitDoesNotPreempt() throws {
        let decision = try Self.decide(AdmissionTests.release()) { $0.quarantined = [AdmissionTests.tip] }
        #expect(decision == .keep(.held(.quarantined)))
    }

    @Test func aRewrittenHistoryDoesNotPreempt() throws {
        let decision = try Self.decide(AdmissionTests.rollback()) { $0.ancestry = .diverged(error: nil) }
        #expect(decision == .keep(.held(.historyRewritten)))
    }

    @Test func unverifiedCommitsDoNotPreempt() throws {
        let decision = try Self.decide(AdmissionTests.signed(AdmissionTests.rollback())) { $0.signatures = AdmissionTests.unsignedRange }
        #expect(!decision.preempts)
        if case .keep(.held) = decision {} else { Issue.record("expected a hold, got \(decision)") }
    }

    @Test func theCommitRollingOutDoesNotPreemptItself() throws {
        // Even were its state read differently, the same commit is the same rollout.
        #expect(try Self.decide(AdmissionTests.rollback(), commit: AdmissionTests.base) == .keep(.sameCommit))
    }

    @Test func aNewCommitThatChangesNothingForTheEnvironmentDoesNotPreempt() throws {
        #expect(try Self.decide(AdmissionTests.released()) == .keep(.sameDesiredState))
    }

    @Test func anInvalidCommitDoesNotPreempt() throws {
        #expect(try Self.decide(nil) == .keep(.invalid))
    }

    @Test func admissionIsAskedOnlyAboutACommitThatCouldPreempt() throws {
        let running = try Self.running()
        #expect(Preemption.needsVerdict(running: running, candidate: (AdmissionTests.tip, try AdmissionTests.rollback())))
        #expect(!Preemption.needsVerdict(running: running, candidate: (AdmissionTests.base, try AdmissionTests.rollback())))
        #expect(!Preemption.needsVerdict(running: running, candidate: (AdmissionTests.tip, try AdmissionTests.released())))
        #expect(!Preemption.needsVerdict(running: running, candidate: (AdmissionTests.tip, nil)))
        // Without a verdict, a commit that could preempt is kept rather than stopping a rollout on a guess.
        #expect(Preemption.decide(running: running, candidate: (AdmissionTests.tip, try AdmissionTests.rollback()), verdict: nil) == .keep(.invalid))
    }

    @Test func everyReasonToKeepSaysWhyInTheLog() {
        let reasons: [Preemption.Keep] = [.sameCommit, .sameDesiredState, .invalid, .held(.windowClosed)]
        #expect(Set(reasons.map(\.description)).count == reasons.count)
        #expect(Preemption.Keep.held(.windowClosed).description.contains("windowClosed"))
    }
}
