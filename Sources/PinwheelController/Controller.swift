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
    private let wakeup: Wakeup
    /// The waits between polls, and the memory given back now and then.
    private var pacing: LoopPacing

    private(set) var repository: WatchedRepository?
    /// The branch tip last read.
    private var lastTip: ObjectID?
    /// What was last carried out for each environment: its desired state and the commit it came from.
    private(set) var applied: [String: (environment: Environment, commit: ObjectID)] = [:]
    /// The reconcile running for each environment: each environment rolls out on its own task, so one
    /// environment's slow or unreachable hosts never delay another's. A newer commit may stop it
    /// (``EnvironmentPoll/preempts(_:name:at:loader:applied:repository:)``).
    private var running: [String: RunningRollout] = [:]
    /// What was last read of the other replicas' statuses (``refreshPeerStatuses(_:)``).
    var peerStatuses = PeerStatusReads()
    /// The last successful poll, the failures since, the last error.
    private(set) var polls = PollRecord()
    private var lastDriftCheck = ContinuousClock.now
    private var stopping = false
    private var forceNextPoll = false
    private let metrics: ControllerMetrics
    /// Decides whether a commit is applied, waits, or is refused (see ``AdmissionGate``).
    let admission: AdmissionGate
    /// What each environment does with a new tip: reconcile, hold, record invalid, or preempt a rollout.
    private let environmentPoll: EnvironmentPoll
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
    let coordination: LeaseKeeper?

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
        environmentPoll = EnvironmentPoll(admission: admission, publisher: publisher, notifications: notifications, logger: logger)
        let wakeup = Wakeup()
        self.wakeup = wakeup
        pacing = LoopPacing(interval: configuration.interval, wakeup: wakeup, heartbeat: heartbeat)
    }

    // MARK: The loop

    /// Runs until `stop()`: poll, reconcile what changed, check drift now and then, wait for the interval or a wake-up.
    public func run() async {
        logger.log(.watching, .info, "watching", ["repository": "\(RemoteURL.redacted(configuration.repository))", "branch": "\(configuration.branch)",
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
            pacing.releaseFreeMemory()
            await pacing.pause(pacing.delay(failedPolls: polls.failures), isStopping: { [weak self] in await self?.stopping ?? true },
                               summary: { [weak self] in await self?.health().summary() ?? "" })
        }
        for rollout in running.values { await rollout.task.value }
        // Notifications still queued get a few seconds; a receiver that is down does not hold the shutdown.
        _ = await notifier.settle(timeout: .seconds(5))
        logger.log(.stopped, .info, "stopped")
    }

    /// Polls at once (a push webhook arrived).
    public nonisolated func trigger(_ reason: String) {
        wakeup.signal()
    }

    /// Finishes the host steps under way, starts no new one, and ends `run()`.
    public func stop() {
        guard !stopping else { return }
        stopping = true
        logger.log(.stopping, .info, "stopping: the current host steps finish, no new step starts")
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
        defer { metrics.polled(duration: ContinuousClock.now - started, failed: polls.failures > 0) }
        let repository: WatchedRepository
        do {
            repository = try await openRepository()
        } catch {
            return polls.failed("cannot open the config repository: \(error)", logger: logger)
        }
        let tip: ObjectID
        do {
            tip = try await repository.fetch()
        } catch {
            return polls.failed("the config repository is unreachable, keeping the last applied state: \(error)", logger: logger)
        }
        polls.succeeded(logger: logger)
        await refreshPeerStatuses(repository)
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
            logger.log(.commitSeen, .info, "new commit", ["commit": "\(tip.hex)"])
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

    private func reconcileAll(at tip: ObjectID, repository: WatchedRepository) async {
        let source = repository.source(at: tip)
        let loader = ConfigLoader(source: source)
        let names: [String]
        do {
            names = try environmentPoll.environments(at: tip, loader: loader, watched: configuration.environments)
        } catch {
            return polls.failed("cannot read \(tip.short): \(error)", logger: logger)
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
                guard await environmentPoll.preempts(current, name: name, at: tip, loader: loader, applied: applied[name],
                                                     repository: repository),
                      running[name] == nil else { continue }
            }
            if let desired = await environmentPoll.decide(name, at: tip, loader: loader, applied: applied[name], repository: repository) {
                await start(desired, commit: tip, source: source, repository: repository)
            }
        }
    }

    /// Starts reconciling `desired` on its own task (see ``EnvironmentRollout``): every host, or only the hosts a drift
    /// check found behind (`drift.only`), leaving the others as it says.
    private func start(_ desired: Environment, commit: ObjectID, source: any ConfigSource, repository: WatchedRepository,
                       drift: DriftCheck.Reconcile = DriftCheck.Reconcile()) async {
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
            if let only = drift.only { agents.removeAll { !only.contains($0.host.name) } }
        } catch {
            logger.log(.hostsUnavailable, .error, "cannot reach the hosts", [
                "env": "\(desired.name)", "commit": "\(commit.short)", "code": "\((error as? FleetError)?.code.description ?? "internal")",
                "error": "\(error)"])
            return
        }
        applied[desired.name] = (desired, commit)
        let rollout = EnvironmentRollout(desired: desired, commit: commit, agents: agents, repository: repository,
                                         publisher: publisher, notifications: notifications, metrics: metrics,
                                         progress: progress, logger: logger,
                                         isStopping: { [weak self] in await self?.shouldStop(desired.name, epoch: epoch) ?? true },
                                         kept: drift.kept)
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
            // Another replica records its statuses from now on: they are read back from the status branch.
            publisher.forget(name)
            peerStatuses.forget(name)
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

    /// Observes every applied environment's hosts (see ``DriftCheck``) and reconciles what it says: hosts behind the
    /// applied commit in any drift mode, drifted ones under `drift: heal`. Environments that are rolling out are left
    /// alone.
    public func checkDrift() async {
        lastDriftCheck = ContinuousClock.now
        guard let repository else { return }
        let check = DriftCheck(agents: hostAgents, publisher: publisher, notifications: notifications, metrics: metrics, logger: logger)
        for (name, state) in applied.sorted(by: { $0.key < $1.key }) {
            if stopping { return }
            // Each environment's check is bounded by the SSH deadlines, but many of them one after another may not
            // be: each one finished is progress, so the watchdog hears of it.
            heartbeat?.beat(.progressed(summary: health().summary()))
            guard running[name] == nil else { continue }
            if let coordination, await coordination.epoch(for: name) == nil { continue }
            let source = repository.source(at: state.commit)
            guard let reconcile = await check.run(state.environment, commit: state.commit, source: source, repository: repository)
            else { continue }
            await start(state.environment, commit: state.commit, source: source, repository: repository, drift: reconcile)
        }
    }
}
