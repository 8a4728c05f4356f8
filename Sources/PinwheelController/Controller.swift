import CMalloc
import Foundation
import Logging
import PinwheelCore
import PinwheelFleet
import PinwheelGit
import PinwheelReleases

/// The GitOps loop: keeps a cache clone of the config repository, polls its branch, and makes every environment's
/// hosts follow it by policy, committing what it observed to the status branch.
///
/// Level-based: each reconcile reads the desired state from a commit and observes the hosts afresh, never trusting
/// a remembered event, so a restart (even after SIGKILL) simply carries on from what it sees.
public actor Controller {
    public let configuration: ControllerConfiguration
    private let logger: Logger
    private let wakeup = Wakeup()

    private(set) var repository: WatchedRepository?
    /// The branch tip last read.
    private var lastTip: ObjectID?
    /// What was last carried out for each environment: its desired state and the commit it came from.
    private var applied: [String: (environment: Environment, commit: ObjectID)] = [:]
    /// The reconcile running for each environment: each environment rolls out on its own task, so one
    /// environment's slow or unreachable hosts never delay another's.
    private var running: [String: Task<Void, Never>] = [:]
    /// The last status committed for each environment.
    private var statuses: [String: EnvironmentStatus] = [:]
    /// Commits to the config repository (status, reverts) are made one at a time.
    private var writing = false
    private var writeWaiters: [CheckedContinuation<Void, Never>] = []
    private var lastPoll: Date?
    private var lastDriftCheck = ContinuousClock.now
    private var lastMemoryRelease = ContinuousClock.now
    private var lastError: String?
    private var failedPolls = 0
    private var stopping = false
    private var forceNextPoll = false
    /// Environments whose desired commit waits for a deploy window: every poll looks again, so it applies by
    /// itself when the window opens.
    private var waiting: Set<String> = []
    /// The last applied state read back from the status branch after a restart, by environment.
    private var restored: [String: AdmissionFacts.LastApplied] = [:]
    /// Quarantined commits already logged as skipped, as `env commit`.
    private var skippedQuarantined: Set<String> = []
    private var metrics: ControllerMetrics
    /// Gathers what admission decides from (ancestry, signatures against the controller's trusted keys, the promotion
    /// source's statuses), remembering signatures and statuses between polls; `apply` gathers through the same type.
    private let gatherer: AdmissionGatherer
    /// The rollouts under way and each environment's recent history, for the status page and the API.
    let progress = ProgressBoard()
    let historyCache = HistoryCache()
    /// Delivers the environments' notifications (`notify:`, `watch --notify`) off the rollouts' path.
    let notifier: Notifier
    /// Hears from the loop as it makes progress (systemd's watchdog, through `watch`).
    private let heartbeat: LoopHeartbeat?

    /// - Parameter metrics: where the controller's metrics go; the bootstrapped metrics system by default.
    /// - Parameter notifier: delivers notifications; one posting over HTTP(S) with the default retries by default.
    /// - Parameter heartbeat: told after every poll, at least every `interval` while the loop waits, and on stop.
    public init(configuration: ControllerConfiguration, logger: Logger, metrics: ControllerMetrics = ControllerMetrics(),
                notifier: Notifier? = nil, heartbeat: LoopHeartbeat? = nil) {
        self.configuration = configuration
        self.heartbeat = heartbeat
        self.logger = logger
        // A controller runs for months: libgit2's object cache would keep a little of every commit it reads.
        Repository.disableObjectCache()
        self.metrics = metrics
        gatherer = AdmissionGatherer(trusted: configuration.trustedKeys, allowHistoryRewrite: configuration.allowHistoryRewrite)
        self.notifier = notifier ?? Notifier(logger: logger, metrics: metrics, secrets: configuration.knownSecrets)
    }

    // MARK: The loop

    /// Runs until `stop()`: poll, reconcile what changed, check drift now and then, wait for the interval or a wake-up.
    public func run() async {
        logger.info("watching", metadata: ["repository": "\(RemoteURL.redacted(configuration.repository))", "branch": "\(configuration.branch)",
                                           "interval": "\(configuration.interval)"])
        while !stopping {
            await poll()
            heartbeat?.beat(.polled(summary: health().summary()))
            if stopping { break }
            if ContinuousClock.now - lastDriftCheck >= configuration.driftInterval {
                await checkDrift()
            }
            releaseFreeMemory()
            // Back off while the remote is unreachable: 2, 4, 8 ... intervals, at most a minute.
            let factor = failedPolls == 0 ? 1 : min(1 << min(failedPolls, 6), 12)
            await pause(min(configuration.interval * factor, max(configuration.interval, .seconds(60))))
        }
        for task in running.values { await task.value }
        // Notifications still queued get a few seconds; a receiver that is down does not hold the shutdown.
        _ = await notifier.settle(timeout: .seconds(5))
        logger.info("stopped")
    }

    /// At most once a minute, gives the memory the allocator holds free back to the system. A rollout's peak (agent
    /// replies, plans, status files) is freed when it ends, but glibc keeps the freed pages in its arenas; over months
    /// the resident memory would follow the peaks rather than what the controller uses.
    private func releaseFreeMemory() {
        guard ContinuousClock.now - lastMemoryRelease >= .seconds(60) else { return }
        lastMemoryRelease = ContinuousClock.now
        pw_heap_release_free_memory()
    }

    /// Waits for the next poll, or less when woken; with a heartbeat, in pieces no longer than its interval with a
    /// beat after each, so a loop that waits (as it should) keeps the watchdog fed.
    private func pause(_ duration: Duration) async {
        guard let heartbeat else {
            _ = await wakeup.wait(timeout: duration)
            return
        }
        let end = ContinuousClock.now + duration
        while !stopping {
            let left = end - ContinuousClock.now
            guard left > .zero else { return }
            if await wakeup.wait(timeout: min(left, heartbeat.interval)) { return }
            heartbeat.beat(.waiting(summary: health().summary()))
        }
    }

    /// Polls at once (a push webhook arrived).
    public nonisolated func trigger(_ reason: String) {
        wakeup.signal()
    }

    /// Finishes the host steps under way, starts no new one, and ends `run()`.
    public func stop() {
        guard !stopping else { return }
        stopping = true
        logger.info("stopping: the current host steps finish, no new step starts")
        heartbeat?.beat(.stopping(summary: "stopping: the current host steps finish"))
        wakeup.signal()
    }

    private var shouldStop: Bool { stopping }

    // MARK: Health

    public struct Health: Sendable {
        public var status: String
        public var lastPoll: Date?
        public var lastError: String?
        public var environments: [String: String]
    }

    public func health() -> Health {
        let results = statuses.mapValues(\.result.rawValue)
        let status = failedPolls > 0 || results.values.contains { $0 != EnvironmentStatus.Result.converged.rawValue } ? "degraded" : "ok"
        return Health(status: status, lastPoll: lastPoll, lastError: lastError, environments: results)
    }

    /// The last status recorded for each environment, by name (what `/api/v1/environments` answers).
    public func lastStatuses() -> [String: EnvironmentStatus] {
        statuses
    }

    // MARK: Polling

    /// Waits until every reconcile under way has finished and recorded its status.
    public func settle() async {
        while let task = running.values.first {
            await task.value
        }
    }

    /// One poll: fetch; when the branch moved, start reconciling every environment whose desired state changed,
    /// each on its own task.
    public func poll() async {
        let started = ContinuousClock.now
        defer { metrics.polled(duration: ContinuousClock.now - started, failed: failedPolls > 0) }
        let repository: WatchedRepository
        do {
            repository = try await openRepository()
        } catch {
            return noteFailure("cannot open the config repository: \(error)")
        }
        let tip: ObjectID
        do {
            tip = try await repository.fetch()
        } catch {
            return noteFailure("the config repository is unreachable, keeping the last applied state: \(error)")
        }
        if failedPolls > 0 {
            logger.info("the config repository is reachable again")
        }
        failedPolls = 0
        lastError = nil
        lastPoll = Date()
        do {
            if let merged = try repository.compactIfNeeded() {
                logger.debug("compacted the cache clone", metadata: ["packs": "\(merged)"])
            }
        } catch {
            logger.warning("could not compact the cache clone; it keeps working as it is", metadata: ["error": "\(error)"])
        }
        guard tip != lastTip || forceNextPoll || !waiting.isEmpty else { return }
        forceNextPoll = false
        if tip != lastTip {
            logger.info("new commit", metadata: ["commit": "\(tip.short)"])
        }
        await reconcileAll(at: tip, repository: repository)
        lastTip = tip
    }

    private func openRepository() async throws -> WatchedRepository {
        if let repository { return repository }
        let opened = try await WatchedRepository.open(
            url: configuration.repository, branch: configuration.branch, statusBranch: configuration.statusBranch,
            cache: configuration.cacheDirectory, remote: configuration.remote,
            author: Signature(name: configuration.authorName, email: configuration.authorEmail))
        repository = opened
        return opened
    }

    private func noteFailure(_ message: String) {
        failedPolls += 1
        if lastError != message || failedPolls == 1 {
            logger.error("\(message)", metadata: ["attempt": "\(failedPolls)"])
        }
        lastError = message
    }

    private func reconcileAll(at tip: ObjectID, repository: WatchedRepository) async {
        let source = repository.source(at: tip)
        let loader = ConfigLoader(source: source)
        let names: [String]
        do {
            let all = try loader.environmentNames()
            names = configuration.environments.isEmpty ? all : configuration.environments.filter(all.contains)
            for missing in configuration.environments where !all.contains(missing) {
                logger.warning("no such environment at this commit", metadata: ["env": "\(missing)", "commit": "\(tip.short)"])
            }
        } catch {
            return noteFailure("cannot read \(tip.short): \(error)")
        }
        for name in names {
            if stopping { return }
            if running[name] != nil {
                // It is rolling out an earlier commit; the next poll after it finishes looks again.
                continue
            }
            let report: ConfigReport
            do {
                report = try loader.load([name])
            } catch {
                logger.error("cannot read the environment", metadata: ["env": "\(name)", "error": "\(error)"])
                continue
            }
            guard let desired = report.environments[name], !report.hasErrors else {
                await recordInvalid(name, commit: tip, diagnostics: report.diagnostics, repository: repository)
                continue
            }
            let previousStatus = loadStatus(name, repository: repository)
            let recorded = previousStatus?.result ?? .converged
            if let previous = applied[name], previous.environment == desired,
               recorded != .invalid, recorded != .waiting, recorded != .refused {
                waiting.remove(name)
                continue
            }
            if await guardrailsHold(desired, commit: tip, status: previousStatus, repository: repository) {
                continue
            }
            start(desired, commit: tip, source: source, repository: repository)
        }
    }

    /// The newest status of `name`, read from the status branch the first time (after a restart).
    private func loadStatus(_ name: String, repository: WatchedRepository) -> EnvironmentStatus? {
        if statuses[name] == nil {
            statuses[name] = try? repository.latestStatus(of: name)
        }
        return statuses[name]
    }

    /// The commit last applied to `name` and its desired state: remembered, or read back from the status branch.
    private func lastApplied(_ name: String, status: EnvironmentStatus?,
                             repository: WatchedRepository) -> AdmissionFacts.LastApplied? {
        if let applied = applied[name] { return AdmissionFacts.LastApplied(commit: applied.commit.hex, environment: applied.environment) }
        guard let hex = status?.lastApplied, let commit = ObjectID(hex: hex) else { return nil }
        if let restored = restored[name], restored.commit == commit.hex { return restored }
        let read = AdmissionGatherer.lastApplied(name, status: status, in: repository.repository)
        if read?.environment != nil { restored[name] = read }
        return read
    }

    /// Whether admission holds `desired` at `commit` back (see ``Admission``): gathers the facts, decides, and acts on
    /// the verdict (records the held status, notifies, logs).
    private func guardrailsHold(_ desired: Environment, commit: ObjectID, status: EnvironmentStatus?,
                                repository: WatchedRepository) async -> Bool {
        let name = desired.name
        let log = logger.with(["env": "\(name)", "commit": "\(commit.short)"])
        let last = lastApplied(name, status: status, repository: repository)
        let facts = await gatherer.facts(for: desired, commit: commit, lastApplied: last, quarantined: status?.quarantined ?? [],
                                         in: repository.repository, statusTip: { try repository.statusTip() },
                                         now: configuration.now())
        let verdict = Admission.decide(facts)
        for note in verdict.notes {
            switch note {
            case let .rewriteAcceptedByMarker(marker, author):
                log.warning("history rewritten, accepted by a signed marker commit",
                            metadata: ["applied": "\(last.map { String($0.commit.prefix(7)) } ?? "none")",
                                       "marker": "\(marker.prefix(7))", "by": "\(author)"])
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
            return false
        }
        let result: EnvironmentStatus.Result = verdict.decision == .wait ? .waiting : .refused
        var held = heldStatus(name, commit: commit, result: result, message: verdict.message, previous: status)
        held.reason = reason.rawValue
        switch reason {
        case .quarantined:
            waiting.remove(name)
            if skippedQuarantined.insert("\(name) \(commit.hex)").inserted {
                log.warning("quarantined: its rollout halted, it is not retried; push a new commit to try again")
            }
            return true
        case .historyRewritten:
            waiting.remove(name)
            log.error("refused: history rewritten", metadata: ["applied": "\(last.map { String($0.commit.prefix(7)) } ?? "none")"])
            await publish(held, repository: repository)
            notify(.refused, status: held, environment: desired, repository: repository, once: "refused \(commit.hex)")
        case .noTrustedKeys, .notCommitted, .unverifiedCommits, .signaturesUnchecked:
            waiting.remove(name)
            log.error("refused: unverified commits", metadata: ["applied": "\(last.map { String($0.commit.prefix(7)) } ?? "none")"])
            await publish(held, repository: repository)
        case .promotionWaiting, .promotionUnreadable:
            if waiting.insert(name).inserted {
                log.info("waiting for the promotion", metadata: ["message": "\(verdict.message)"])
            }
            await publish(held, repository: repository)
        case .promotionRefused:
            // Looked at again every poll: a later staging run of the same pins is a new decision.
            if waiting.insert(name).inserted {
                log.error("refused: the promotion's source halted on these pins", metadata: ["message": "\(verdict.message)"])
            }
            await publish(held, repository: repository)
        case .windowClosed, .frozen:
            if waiting.insert(name).inserted {
                log.info("waiting for the deploy window", metadata: ["message": "\(verdict.message)"])
                notify(.waiting, status: held, environment: desired, repository: repository, once: "waiting \(commit.hex)")
            }
            await publish(held, repository: repository)
        }
        return true
    }

    /// A status for a commit that was held back: the hosts keep what the previous status says.
    private func heldStatus(_ name: String, commit: ObjectID, result: EnvironmentStatus.Result, message: String,
                            previous: EnvironmentStatus?) -> EnvironmentStatus {
        EnvironmentStatus(environment: name, desired: commit.hex, result: result, message: message, time: Self.now(),
                          active: previous?.active, pins: previous?.pins ?? [], hosts: previous?.hosts ?? [:],
                          applied: previous?.lastApplied, python: previous?.python)
    }

    /// Starts reconciling `desired` on its own task.
    private func start(_ desired: Environment, commit: ObjectID, source: any ConfigSource, repository: WatchedRepository) {
        let log = logger.with(["env": "\(desired.name)", "commit": "\(commit.short)"])
        let transports: [String: any Transport]
        do {
            transports = try TransportFactory.transports(for: desired, source: source,
                                                         controlDirectory: configuration.controlDirectory,
                                                         trust: configuration.localFileTrust)
        } catch {
            log.error("cannot reach the hosts", metadata: ["error": "\(error)"])
            return
        }
        applied[desired.name] = (desired, commit)
        let metrics = self.metrics
        let progress = self.progress
        let hostCount = desired.targets.count
        let announcer = rolloutAnnouncer(desired, commit: commit, repository: repository)
        var reconciler = EnvironmentReconciler(environment: desired, transports: transports, commit: commit.hex) { event in
            ReconcileLog.log(event, to: log)
            metrics.record(event, environment: desired.name)
            progress.record(event, environment: desired.name, commit: commit.hex, hosts: hostCount, now: Self.now())
            announcer?.observe(event)
        }
        reconciler.shouldStop = { [weak self] in await self?.isStopping ?? true }
        // A pause between batches ends early when a shutdown begins: SIGTERM starts no new step, so there is
        // nothing to wait for.
        reconciler.sleep = { [weak self] duration in
            let deadline = ContinuousClock.now + duration
            while ContinuousClock.now < deadline {
                if await self?.isStopping ?? true { return }
                try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
            }
        }
        running[desired.name] = Task {
            let report = await reconciler.reconcile()
            await self.finish(desired, commit: commit, report: report, repository: repository, log: log)
        }
    }

    private var isStopping: Bool { stopping }

    /// Records how a reconcile ended: a revert when the policy asks for one, and the status.
    private func finish(_ desired: Environment, commit: ObjectID, report: ReconcileReport, repository: WatchedRepository,
                        log: Logger) async {
        defer { running[desired.name] = nil }
        let outcome = report.outcome
        log.info("reconciled", metadata: ["result": "\(outcome.result.rawValue)", "seconds": "\(Self.seconds(report.duration))",
                                          "message": "\(outcome.message)"])
        var revert: String?
        if outcome.revert, !report.stoppedEarly {
            if desired.policy.verify.requiresSignatures {
                // The controller cannot sign; an unsigned revert would make the range refuse every later commit.
                log.warning("not reverting: signatures are required and the controller does not sign; push a signed revert")
            } else {
                revert = await revertRelease(desired, commit: commit, outcome: outcome, repository: repository, log: log)
            }
        }
        metrics.reconciled(environment: desired.name, duration: report.duration, outcome: outcome.result,
                           reverted: revert != nil, stopped: report.stoppedEarly)
        var errors = report.unreachable
        errors.merge(outcome.failures) { first, _ in first }
        var status = EnvironmentStatus(environment: desired, commit: commit.hex, result: outcome.result, message: outcome.message,
                                       time: Self.now(), observations: report.observations, errors: errors, revert: revert)
        status.applied = commit.hex
        if outcome.result == .halted, !report.stoppedEarly {
            // Never retried by the controller by itself, also after a restart: a new commit is a new decision.
            status.quarantined = [commit.hex]
            log.warning("quarantined: the controller will not retry this commit")
        }
        await publish(status, repository: repository)
        progress.end(desired.name)
        notifyFinished(desired, status: status, report: report, repository: repository)
        // Anything that arrived while this environment rolled out (or the revert just committed) is looked at now.
        forceNextPoll = true
        wakeup.signal()
    }

    private func recordInvalid(_ name: String, commit: ObjectID, diagnostics: [Diagnostic], repository: WatchedRepository) async {
        logger.error("invalid config: nothing applied", metadata: ["env": "\(name)", "commit": "\(commit.short)",
                                                                   "errors": "\(diagnostics.count)"])
        for diagnostic in diagnostics.prefix(20) {
            logger.error("\(diagnostic)", metadata: ["env": "\(name)"])
        }
        let previous = statuses[name]
        let status = EnvironmentStatus(
            environment: name, desired: commit.hex, result: .invalid,
            message: "the config at \(commit.short) is not valid; the hosts keep what was last applied"
                + (applied[name].map { " (\($0.commit.short))" } ?? ""),
            time: Self.now(), active: previous?.active, pins: previous?.pins ?? [], hosts: previous?.hosts ?? [:],
            errors: diagnostics.map(\.description), applied: previous?.lastApplied)
        await publish(status, repository: repository)
    }

    // MARK: Recording

    /// Commits a revert of the commit that last changed the environment, so git again says what the fleet runs.
    private func revertRelease(_ desired: Environment, commit: ObjectID, outcome: RolloutMachine.Outcome,
                               repository: WatchedRepository, log: Logger) async -> String? {
        do {
            let path = "\(ConfigLoader.environmentsFolder)/\(desired.name)"
            guard let offending = try repository.repository.history(of: path, from: commit, limit: 1).first else {
                log.error("nothing to revert: no commit changed the environment")
                return nil
            }
            let message = RevertMessage.haltedRollout(reverting: offending, environment: desired.name,
                                                      reason: outcome.message, failures: outcome.failures).text
            await acquireWrites()
            defer { releaseWrites() }
            let revert = try await repository.revert(offending.id, message: message)
            log.warning("reverted the release", metadata: ["reverted": "\(offending.id.short)", "revert": "\(revert.short)"])
            return revert.hex
        } catch {
            log.error("could not revert the release", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Waits until no other environment is committing to the config repository.
    private func acquireWrites() async {
        while writing {
            await withCheckedContinuation { writeWaiters.append($0) }
        }
        writing = true
    }

    private func releaseWrites() {
        writing = false
        if !writeWaiters.isEmpty { writeWaiters.removeFirst().resume() }
    }

    /// Commits `status` to the status branch when it says something new, one environment at a time.
    private func publish(_ status: EnvironmentStatus, repository: WatchedRepository) async {
        metrics.observed(status)
        await acquireWrites()
        defer { releaseWrites() }
        var status = status
        let previous = loadStatus(status.environment, repository: repository)
        // Quarantined commits are carried forward, the newest last, at most 100.
        var quarantined = previous?.quarantined ?? []
        for commit in status.quarantined where !quarantined.contains(commit) {
            quarantined.append(commit)
        }
        status.quarantined = Array(quarantined.suffix(100))
        if let previous = statuses[status.environment], previous.saysTheSame(as: status) {
            return
        }
        do {
            let commit = try await repository.writeStatus(status)
            statuses[status.environment] = status
            logger.info("status committed", metadata: ["env": "\(status.environment)", "status": "\(commit.short)",
                                                       "summary": "\(status.summary)"])
        } catch {
            logger.error("could not commit the status", metadata: ["env": "\(status.environment)", "error": "\(error)"])
        }
    }

    // MARK: Drift

    /// Observes every applied environment's hosts; `drift: heal` reconciles what drifted, `report` records it.
    /// Environments that are rolling out are left alone.
    public func checkDrift() async {
        lastDriftCheck = ContinuousClock.now
        guard let repository else { return }
        for (name, state) in applied.sorted(by: { $0.key < $1.key }) {
            if stopping { return }
            // Each environment's check is bounded by the SSH deadlines, but many of them one after another may not
            // be: each one finished is progress, so the watchdog hears of it.
            heartbeat?.beat(.progressed(summary: health().summary()))
            guard running[name] == nil, statuses[name]?.result != .halted, statuses[name]?.result != .invalid else { continue }
            let source = repository.source(at: state.commit)
            guard let transports = try? TransportFactory.transports(for: state.environment, source: source,
                                                                    controlDirectory: configuration.controlDirectory,
                                                                    trust: configuration.localFileTrust) else { continue }
            let reports = await EnvironmentReconciler(environment: state.environment, transports: transports,
                                                      commit: state.commit.hex).plan()
            let drifted = reports.filter { $0.error != nil || !($0.plan?.isEmpty ?? true) }.map(\.host)
            guard !drifted.isEmpty else { continue }
            metrics.driftDetected(environment: name, hosts: drifted.count)
            let log = logger.with(["env": "\(name)", "commit": "\(state.commit.short)"])
            log.warning("drift", metadata: ["hosts": "\(drifted.sorted().joined(separator: ","))", "drift": "\(state.environment.policy.drift.rawValue)"])
            notifyDrift(state.environment, commit: state.commit, hosts: reports.filter { drifted.contains($0.host) },
                        repository: repository)
            if state.environment.policy.drift == .heal {
                start(state.environment, commit: state.commit, source: source, repository: repository)
            } else if var status = statuses[name] {
                status.result = .degraded
                status.message = "drift: \(drifted.sorted().joined(separator: ", ")) no longer match\(drifted.count == 1 ? "es" : "") \(state.commit.short)"
                status.time = Self.now()
                await publish(status, repository: repository)
            }
        }
    }

    // MARK: Helpers

    static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", duration.inSeconds)
    }
}

extension Logger {
    /// A copy with more metadata, for one environment's events.
    func with(_ metadata: Logger.Metadata) -> Logger {
        var copy = self
        for (key, value) in metadata { copy[metadataKey: key] = value }
        return copy
    }
}
