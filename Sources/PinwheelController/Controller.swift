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
    let logger: Logger
    private let wakeup = Wakeup()

    private(set) var repository: WatchedRepository?
    /// The branch tip last read.
    private var lastTip: ObjectID?
    /// What was last carried out for each environment: its desired state and the commit it came from.
    private(set) var applied: [String: (environment: Environment, commit: ObjectID)] = [:]
    /// The reconcile running for each environment: each environment rolls out on its own task, so one
    /// environment's slow or unreachable hosts never delay another's. A newer commit may stop it (``preempts``).
    private var running: [String: RunningRollout] = [:]
    private(set) var lastPoll: Date?
    private var lastDriftCheck = ContinuousClock.now
    private var lastMemoryRelease = ContinuousClock.now
    private(set) var lastError: String?
    private(set) var failedPolls = 0
    private var stopping = false
    private var forceNextPoll = false
    private let metrics: ControllerMetrics
    /// Decides whether a commit is applied, waits, or is refused (see ``AdmissionGate``).
    let admission: AdmissionGate
    /// The one writer to the config repository: statuses and reverts.
    let publisher: StatusPublisher
    /// The rollouts under way and each environment's recent history, for the status page and the API.
    let progress = ProgressBoard()
    let historyCache = HistoryCache()
    /// Delivers the environments' notifications (`notify:`, `watch --notify`) off the rollouts' path.
    let notifier: Notifier
    private let notifications: RolloutNotifications
    /// Hears from the loop as it makes progress (systemd's watchdog, through `watch`).
    private let heartbeat: LoopHeartbeat?
    /// Reaches the hosts: over SSH, or in memory in the behavioural tests.
    private let hostAgents: any HostAgentFactory
    /// Several controllers sharing the fleet (`watch --coordination`): which environments this replica may act on,
    /// under which epoch. Nil when it runs alone, which changes nothing.
    private let coordination: LeaseKeeper?

    /// - Parameter metrics: where the controller's metrics go; the bootstrapped metrics system by default.
    /// - Parameter notifier: delivers notifications; one posting over HTTP(S) with the default retries by default.
    /// - Parameter heartbeat: told after every poll, at least every `interval` while the loop waits, and on stop.
    /// - Parameter agents: what reaches the hosts; SSH (``TransportAgentFactory``) with the configuration's control
    ///   folder and trusted folders by default.
    /// - Parameter coordination: the replica's leases when several controllers share the fleet; nil: it acts alone.
    public init(configuration: ControllerConfiguration, logger: Logger, metrics: ControllerMetrics = ControllerMetrics(),
                notifier: Notifier? = nil, heartbeat: LoopHeartbeat? = nil, agents: (any HostAgentFactory)? = nil,
                coordination: LeaseKeeper? = nil) {
        self.configuration = configuration
        hostAgents = agents ?? TransportAgentFactory(controlDirectory: configuration.controlDirectory,
                                                     trust: configuration.localFileTrust,
                                                     limit: ConnectionLimit(configuration.maxConnections))
        self.heartbeat = heartbeat
        self.logger = logger
        // A controller runs for months: libgit2's object cache would keep a little of every commit it reads.
        Repository.disableObjectCache()
        self.metrics = metrics
        let statusVerifier = Self.statusVerifier(configuration, logger: logger)
        admission = AdmissionGate(configuration: configuration, logger: logger, statusVerifier: statusVerifier)
        self.coordination = coordination
        publisher = StatusPublisher(metrics: metrics, logger: logger, verifier: statusVerifier,
                                    stamp: coordination.map(LeaseKeeper.stamp))
        let notifier = notifier ?? Notifier(logger: logger, metrics: metrics, secrets: configuration.knownSecrets)
        self.notifier = notifier
        notifications = RolloutNotifications(notifier: notifier, configuration: configuration)
    }

    // MARK: The loop

    /// Runs until `stop()`: poll, reconcile what changed, check drift now and then, wait for the interval or a wake-up.
    public func run() async {
        logger.info("watching", metadata: ["repository": "\(RemoteURL.redacted(configuration.repository))", "branch": "\(configuration.branch)",
                                           "interval": "\(configuration.interval)"])
        logStatusTrust()
        await coordination?.onChange { [weak self] change in await self?.ownershipChanged(change) ?? true }
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
        for rollout in running.values { await rollout.task.value }
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

    // MARK: Polling

    /// Waits until every reconcile under way has finished and recorded its status.
    public func settle() async {
        while let rollout = running.values.first {
            await rollout.task.value
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
        let waiting = await !admission.waiting.isEmpty
        guard tip != lastTip || forceNextPoll || waiting else { return }
        forceNextPoll = false
        if tip != lastTip {
            logger.info("new commit", metadata: ["commit": "\(tip.short)"])
        }
        await reconcileAll(at: tip, repository: repository)
        lastTip = tip
    }

    private func openRepository() async throws -> WatchedRepository {
        if let repository { return repository }
        let opened = try await WatchedRepository.open(configuration)
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
        await coordination?.track(names)
        for name in names {
            if stopping { return }
            if let coordination, await coordination.epoch(for: name) == nil {
                continue  // another replica owns it
            }
            if let current = running[name] {
                // It is rolling out an earlier commit: a newer commit admission would apply stops it at its next safe
                // point and reconciles now; any other waits for the next poll after the rollout ends.
                guard await preempts(current, name: name, at: tip, loader: loader, repository: repository),
                      running[name] == nil else { continue }
            }
            let report: ConfigReport
            do {
                report = try loader.load([name])
            } catch {
                logger.error("cannot read the environment", metadata: ["env": "\(name)", "error": "\(error)"])
                continue
            }
            guard let desired = report.environments[name], !report.hasErrors else {
                await publisher.publishInvalid(name, commit: tip, diagnostics: report.diagnostics, applied: applied[name]?.commit,
                                               repository: repository)
                continue
            }
            let previousStatus = await publisher.latest(name, repository: repository)
            let recorded = previousStatus?.result ?? .converged
            if let previous = applied[name], previous.environment == desired,
               recorded != .invalid, recorded != .waiting, recorded != .refused {
                await admission.settled(name)
                continue
            }
            if let hold = await admission.check(desired, commit: tip, status: previousStatus, applied: applied[name],
                                                repository: repository) {
                if let status = hold.status {
                    await publisher.publish(status, repository: repository)
                    if let kind = hold.notify {
                        notifications.notify(kind, status: status, environment: desired, repository: repository, once: hold.once)
                    }
                }
                continue
            }
            await start(desired, commit: tip, source: source, repository: repository)
        }
    }

    /// Starts reconciling `desired` on its own task (see ``EnvironmentRollout``).
    private func start(_ desired: Environment, commit: ObjectID, source: any ConfigSource, repository: WatchedRepository) async {
        // With coordination, every request carries the lease's epoch: the hosts' fence refuses it once another
        // replica has taken the environment over.
        var held: Int64?
        if let coordination {
            guard let epoch = await coordination.epoch(for: desired.name), running[desired.name] == nil else { return }
            held = epoch
        }
        let epoch = held
        var agents: [HostAgent]
        do {
            agents = try hostAgents.agents(for: desired, source: source, commit: commit.hex)
            for index in agents.indices { agents[index].epoch = epoch }
        } catch {
            logger.error("cannot reach the hosts", metadata: ["env": "\(desired.name)", "commit": "\(commit.short)",
                                                             "error": "\(error)"])
            return
        }
        applied[desired.name] = (desired, commit)
        let rollout = EnvironmentRollout(desired: desired, commit: commit, agents: agents, repository: repository,
                                         publisher: publisher, notifications: notifications, metrics: metrics,
                                         progress: progress, logger: logger,
                                         isStopping: { [weak self] in await self?.shouldStop(desired.name, epoch: epoch) ?? true })
        let task = Task {
            await rollout.run()
            await self.finished(desired.name)
        }
        running[desired.name] = RunningRollout(commit: commit, environment: desired, task: task, supersession: rollout.supersession)
    }

    /// Whether a rollout must stop before its next step: a shutdown began, or this replica no longer holds the lease
    /// it started under.
    private func shouldStop(_ name: String, epoch: Int64?) async -> Bool {
        if stopping { return true }
        guard let coordination, let epoch else { return false }
        return await !coordination.mayAct(on: name, epoch: epoch)
    }

    /// Coordination: an environment gained is reconciled at once, level-based (what the hosts and the status branch
    /// say, so a rollout its previous owner left halfway is finished at the policy's pace); one lost has its rollout
    /// stopped. Answers whether nothing was running, so the lease can be released at once.
    func ownershipChanged(_ change: OwnershipChange) -> Bool {
        switch change {
        case let .gained(name, _):
            applied[name] = nil
            publisher.forget(name)
            forceNextPoll = true
            wakeup.signal()
            return true
        case let .lost(name, _):
            applied[name] = nil
            guard let current = running[name] else { return true }
            current.task.cancel()
            // Its lease is released once the rollout has stopped at its safe point, not left to lapse.
            if let coordination {
                Task { await current.task.value; await coordination.stopped(name) }
            }
            return false
        }
    }

    /// A rollout ended: anything that arrived while it ran (or the revert just committed) is looked at now.
    private func finished(_ name: String) async {
        running[name] = nil
        forceNextPoll = true
        wakeup.signal()
    }

    // MARK: Drift

    /// Observes every applied environment's hosts; `drift: heal` reconciles what drifted, `report` records it.
    /// Environments that are rolling out are left alone.
    public func checkDrift() async {
        lastDriftCheck = ContinuousClock.now
        guard let repository else { return }
        let check = DriftCheck(agents: hostAgents)
        for (name, state) in applied.sorted(by: { $0.key < $1.key }) {
            if stopping { return }
            // Each environment's check is bounded by the SSH deadlines, but many of them one after another may not
            // be: each one finished is progress, so the watchdog hears of it.
            heartbeat?.beat(.progressed(summary: health().summary()))
            let last = publisher.status(of: name)
            guard running[name] == nil, last?.result != .halted, last?.result != .invalid else { continue }
            if let coordination, await coordination.epoch(for: name) == nil { continue }
            let source = repository.source(at: state.commit)
            let drifted = await check.drifted(state.environment, commit: state.commit, source: source)
            guard !drifted.isEmpty else { continue }
            let hosts = drifted.map(\.host)
            // Hosts the rollout never reached (down, skipped for a fault of their own) are behind, not drifted: they
            // get the commit in any drift mode. Drift that is also there is handled as the policy says, below.
            if hosts.allSatisfy({ DriftCheck.isBehind($0, status: last) }) {
                logger.info("hosts behind the applied commit: reconciling them",
                            metadata: ["env": "\(name)", "commit": "\(state.commit.short)", "hosts": "\(hosts.sorted().joined(separator: ","))"])
                await start(state.environment, commit: state.commit, source: source, repository: repository)
                continue
            }
            metrics.driftDetected(environment: name, hosts: hosts.count)
            logger.warning("drift", metadata: ["env": "\(name)", "commit": "\(state.commit.short)",
                                               "hosts": "\(hosts.sorted().joined(separator: ","))",
                                               "drift": "\(state.environment.policy.drift.rawValue)"])
            notifications.notifyDrift(state.environment, commit: state.commit, hosts: drifted, repository: repository)
            if state.environment.policy.drift == .heal {
                await start(state.environment, commit: state.commit, source: source, repository: repository)
            } else if let status = publisher.status(of: name) {
                await publisher.publish(DriftCheck.reported(status, hosts: hosts, commit: state.commit), repository: repository)
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
