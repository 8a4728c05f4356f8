import Foundation
import Logging
import PinwheelCore
import PinwheelGit
import PinwheelReleases

/// Why the controller refuses or holds a commit back: gathers the facts (``AdmissionGatherer``, the same as `apply`),
/// lets the pure ``Admission`` decide, and turns the verdict into what the controller does — the status to publish
/// and the notification to send — remembering which environments wait (a deploy window, a promotion) so every poll
/// looks at them again, and which quarantined commits it already said it skips.
actor AdmissionGate {
    /// What to do with a commit admission holds back.
    struct Hold: Sendable {
        /// The status to publish; nil for a quarantined commit, whose status already says so.
        var status: EnvironmentStatus?
        /// The notification to send, once per `once` key.
        var notify: NotificationKind?
        var once: String?
    }

    private let gatherer: AdmissionGatherer
    private let now: @Sendable () -> Date
    private let logger: Logger
    /// Environments whose desired commit waits for a deploy window or a promotion: every poll looks again.
    private(set) var waiting: Set<String> = []
    /// Admission's verdict on `desired` at `commit`, with nothing logged, published or remembered as waiting: what
    /// preemption asks of a commit that arrives while a rollout runs (``EnvironmentPoll/preempts(_:name:at:loader:applied:repository:)``).
    func verdict(_ desired: Environment, commit: ObjectID, status: EnvironmentStatus?,
                 applied: (environment: Environment, commit: ObjectID)?, repository: WatchedRepository) async -> AdmissionVerdict {
        let last = lastApplied(desired.name, applied: applied, status: status, repository: repository)
        let facts = await gatherer.facts(for: desired, commit: commit, lastApplied: last, quarantined: status?.quarantined ?? [],
                                         in: repository.repository, statusTip: { try repository.statusTip() }, now: now())
        return Admission.decide(facts)
    }

    /// The last applied state read back from the status branch after a restart, by environment.
    private var restored: [String: AdmissionFacts.LastApplied] = [:]
    /// Quarantined commits already logged as skipped, as `env commit`.
    private var skippedQuarantined: Set<String> = []

    init(configuration: ControllerConfiguration, logger: Logger, statusVerifier: StatusVerifier? = nil) {
        gatherer = AdmissionGatherer(trusted: configuration.trustedKeys, allowHistoryRewrite: configuration.allowHistoryRewrite,
                                     statusVerifier: statusVerifier)
        now = configuration.now
        self.logger = logger
    }

    /// The environment's desired state did not change: it waits for nothing.
    func settled(_ name: String) {
        waiting.remove(name)
    }

    /// Whether admission holds `desired` at `commit` back, and what to do then; nil when it is admitted.
    /// - Parameter applied: what the controller last carried out for the environment, when it remembers.
    func check(_ desired: Environment, commit: ObjectID, status: EnvironmentStatus?,
               applied: (environment: Environment, commit: ObjectID)?, repository: WatchedRepository) async -> Hold? {
        let name = desired.name
        let log = logger.with(["env": "\(name)", "commit": "\(commit.short)"])
        let last = lastApplied(name, applied: applied, status: status, repository: repository)
        let facts = await gatherer.facts(for: desired, commit: commit, lastApplied: last, quarantined: status?.quarantined ?? [],
                                         in: repository.repository, statusTip: { try repository.statusTip() }, now: now())
        let verdict = Admission.decide(facts)
        let lastShort = last.map { String($0.commit.prefix(7)) } ?? "none"
        for note in verdict.notes {
            switch note {
            case let .rewriteAcceptedByMarker(marker, author):
                log.warning("history rewritten, accepted by a signed marker commit",
                            metadata: ["applied": "\(lastShort)", "marker": "\(marker.prefix(7))", "by": "\(author)"])
            case let .unverifiedAccepted(accepted) where !verdict.holds:
                log.info("unverified commits accepted by a trusted signer", metadata: ["accepted": "\(accepted.map { String($0.prefix(10)) })"])
            case .rollbackThroughWindows where !verdict.holds:
                log.info("a rollback: the deploy windows let it through")
            case .unverifiedAccepted, .rollbackThroughWindows:
                break
            }
        }
        guard let reason = verdict.reason else {
            waiting.remove(name)
            return nil
        }
        var held = EnvironmentStatus.held(name, commit: commit, result: verdict.decision == .wait ? .waiting : .refused,
                                   message: verdict.message, previous: status)
        held.reason = reason.rawValue
        let heldLog = log.with([
            "event": "\(ControllerEvent.admissionHeld.rawValue)", "reason": "\(reason.rawValue)", "decision": "\(verdict.decision.rawValue)"])
        switch reason {
        case .quarantined:
            waiting.remove(name)
            if skippedQuarantined.insert("\(name) \(commit.hex)").inserted {
                heldLog.warning("quarantined: its rollout halted, it is not retried; push a new commit to try again")
            }
            return Hold(status: nil)
        case .historyRewritten:
            waiting.remove(name)
            heldLog.error("refused: history rewritten", metadata: ["applied": "\(lastShort)"])
            return Hold(status: held, notify: .refused, once: "refused \(commit.hex)")
        case .noTrustedKeys, .notCommitted, .unverifiedCommits, .signaturesUnchecked:
            waiting.remove(name)
            heldLog.error("refused: unverified commits", metadata: ["applied": "\(lastShort)"])
            return Hold(status: held)
        case .promotionWaiting, .promotionUnreadable:
            if waiting.insert(name).inserted {
                heldLog.info("waiting for the promotion", metadata: ["message": "\(verdict.message)"])
            }
            return Hold(status: held)
        case .promotionRefused:
            // Looked at again every poll: a later staging run of the same pins is a new decision.
            if waiting.insert(name).inserted {
                heldLog.error("refused: the promotion's source halted on these pins", metadata: ["message": "\(verdict.message)"])
            }
            return Hold(status: held)
        case .windowClosed, .frozen:
            let first = waiting.insert(name).inserted
            if first {
                heldLog.info("waiting for the deploy window", metadata: ["message": "\(verdict.message)"])
            }
            return Hold(status: held, notify: first ? .waiting : nil, once: "waiting \(commit.hex)")
        }
    }

    /// The commit last applied to `name` and its desired state: remembered, or read back from the status branch.
    private func lastApplied(_ name: String, applied: (environment: Environment, commit: ObjectID)?, status: EnvironmentStatus?,
                             repository: WatchedRepository) -> AdmissionFacts.LastApplied? {
        if let applied { return AdmissionFacts.LastApplied(commit: applied.commit.hex, environment: applied.environment) }
        guard let hex = status?.lastApplied, let commit = ObjectID(hex: hex) else { return nil }
        if let restored = restored[name], restored.commit == commit.hex { return restored }
        let read = AdmissionGatherer.lastApplied(name, status: status, in: repository.repository)
        if read?.environment != nil { restored[name] = read }
        return read
    }
}
