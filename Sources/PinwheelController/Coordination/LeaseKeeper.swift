import Foundation
import Logging
import Metrics
import PinwheelCoordination
import PinwheelCore
import PinwheelFleet

/// One controller replica's side of `watch --coordination`: heartbeats into the shared store, spreads the
/// environments over the live replicas by rendezvous hashing, and holds the leases of those it owns, so each
/// environment is acted on by one replica at a time.
///
/// The timing is Kubernetes leader election's (``LeaseTiming``): every retry period the keeper heartbeats, renews what
/// it holds and tries to acquire what rendezvous gives it. A holding counts only until its renew deadline after the
/// last renewal *sent*; a watchdog drops it then even while the store does not answer, so the replica stops acting
/// (its rollouts stop, no new one starts, no status is published) before the lease can end anywhere else. Losing an
/// environment and gaining one are told to the controller (``OwnershipChange``), which stops or reconciles it.
public actor LeaseKeeper {
    /// This replica's name, in the store and in the statuses it records.
    public nonisolated let replica: String
    public nonisolated let timing: LeaseTiming
    nonisolated let store: PostgresCoordination
    private let logger: Logger
    private let metrics: CoordinationMetrics
    /// The environments there are (at the branch's tip), as the controller last said; nil until it first says, so
    /// nothing is acquired before the replica knows what exists.
    private var tracked: Set<String>?
    private var holdings: [String: LeaseHolding] = [:]
    /// Leases handed over while their environment's rollout was still stopping, by epoch: released when the controller
    /// says it stopped (``stopped(_:)``), so the new owner need not wait out the lease duration.
    private var draining: [String: Int64] = [:]
    private var replicas: [String] = []
    private var leases: [LeaseRecord] = []
    private var storeProblem: String?
    private var listener: (@Sendable (OwnershipChange) async -> Bool)?
    private var stopping = false
    private var releasing = true
    private var wakeRequested = false
    /// Whether a round has heartbeat yet: the first only announces the replica, so replicas started together see
    /// each other before they acquire, instead of one taking everything and handing most of it over.
    private var announced = false
    private let origin = ContinuousClock.now

    /// - Parameter statementTimeout: how long one statement may take; by default a third of the renew deadline (at
    ///   most 3 s), so a holder learns in time that it cannot renew.
    /// - Parameter metricsFactory: where its metrics go; the bootstrapped metrics system by default.
    public init(replica: String, settings: CoordinationSettings, timing: LeaseTiming, logger: Logger,
                statementTimeout: Duration? = nil, metricsFactory: (any MetricsFactory)? = nil) {
        self.replica = replica
        self.timing = timing
        self.logger = logger.with(["replica": "\(replica)"])
        let timeout = statementTimeout ?? min(.seconds(3), .milliseconds(max(100, timing.renewDeadline.milliseconds / 3)))
        // PostgresNIO traces every message at the lower levels: only its warnings reach the controller's log.
        var storeLogger = logger
        storeLogger.logLevel = max(logger.logLevel, .warning)
        store = PostgresCoordination(settings: settings, logger: storeLogger, statementTimeout: timeout)
        metrics = CoordinationMetrics(factory: metricsFactory ?? MetricsSystem.factory)
    }

    /// Connects once and says why that fails (a wrong password, no such database), for `watch` to refuse to start.
    public nonisolated func check() async throws {
        try await store.check()
    }

    /// Where ownership changes go: the controller stops an environment it lost and reconciles one it gained. For a
    /// loss it answers whether the environment is idle (no rollout was running), so the lease is released at once
    /// instead of lapsing.
    public func onChange(_ listener: @escaping @Sendable (OwnershipChange) async -> Bool) {
        self.listener = listener
    }

    // MARK: What the controller asks

    /// The epoch under which this replica may act on `environment` now, or nil when it may not.
    public func epoch(for environment: String) -> Int64? {
        guard let holding = holdings[environment], holding.mayAct(at: now()) else { return nil }
        return holding.epoch
    }

    /// Whether this replica may still act on `environment` under `epoch`: false once the lease is lost or lapsing.
    public func mayAct(on environment: String, epoch: Int64) -> Bool {
        self.epoch(for: environment) == epoch
    }

    /// The environments there are that this replica does not act on now: another replica's, or nobody's yet; nil
    /// before the controller has said which environments there are.
    public func othersEnvironments() -> [String]? {
        let time = now()
        return tracked.map { $0.filter { holdings[$0]?.mayAct(at: time) != true }.sorted() }
    }

    /// The environments there are: the keeper competes for exactly these.
    public func track(_ environments: [String]) {
        let names = Set(environments)
        if tracked != names {
            tracked = names
            wakeRequested = true
        }
    }

    /// What the page, `/api` and `/metrics` show: who is alive, every lease, and what this replica holds.
    public func snapshot() -> CoordinationSnapshot {
        let time = now()
        return CoordinationSnapshot(replica: replica, replicas: replicas, leases: leases, storeProblem: storeProblem,
                                    held: holdings.filter { $0.value.mayAct(at: time) }.mapValues(\.epoch))
    }

    /// Ends `run()` after the next step: it then releases every lease and leaves, so the others take over at once.
    /// Without `releasing` it just stops, as a replica that dies does: nothing is renewed, and the others take over
    /// once the leases end.
    public func stop(releasing: Bool = true) {
        stopping = true
        self.releasing = releasing
        if !releasing {
            holdings = [:]
        }
    }

    // MARK: The loop

    /// Runs until `stop()` or cancellation: the store's connection pool, the renew loop and the watchdog; then
    /// releases what it holds and leaves the store.
    public func run() async {
        logger.log(.coordinationJoined, .info, "coordinating", ["store": "\(store.settings.shown)", "lease": "\(timing.duration)",
                                               "renewDeadline": "\(timing.renewDeadline)", "retry": "\(timing.retryPeriod)"])
        let store = store
        // The pool runs on a detached task: PostgresNIO's pool ends itself at a service group's graceful shutdown,
        // which would come before the leases are released. It ends when this does.
        let pool = Task.detached { await store.run() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.watchdog() }
            await loop()
            if releasing {
                await resign()
            }
            group.cancelAll()
        }
        pool.cancel()
        logger.info("left the coordination store")
    }

    private func loop() async {
        var migrated = false
        while !stopping, !Task.isCancelled {
            if !migrated {
                do {
                    try await store.migrate()
                    migrated = true
                } catch {
                    unreachable(error)
                }
            }
            if migrated {
                await tick()
            }
            await pause()
        }
    }

    /// Waits a retry period, or less when the environments changed or a stop began.
    private func pause() async {
        let end = ContinuousClock.now + timing.retryPeriod.duration
        while ContinuousClock.now < end, !stopping, !wakeRequested, !Task.isCancelled {
            try? await Task.sleep(for: min(.milliseconds(50), end - ContinuousClock.now))
        }
        wakeRequested = false
    }

    /// Drops every holding whose renew deadline passed, however long the store takes to answer.
    private func watchdog() async {
        while !stopping, !Task.isCancelled {
            await expire()
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// One round: heartbeat, read who is alive, keep what rendezvous gives this replica, hand over the rest.
    func tick() async {
        do {
            try await store.heartbeat(replica)
            replicas = try await store.liveReplicas(within: timing.duration)
            reachable()
        } catch {
            unreachable(error)
            return
        }
        guard announced else {
            announced = true
            return
        }
        guard let tracked else { return }
        var members = Set(replicas)
        members.insert(replica)
        for environment in tracked.sorted() {
            if stopping { return }
            let owner = Rendezvous.owner(of: environment, among: members)
            if owner == replica {
                await keep(environment)
            } else if holdings[environment] != nil {
                await handOver(environment, reason: "rendezvous now gives it to \(owner ?? "no replica")")
            }
        }
        for environment in holdings.keys.sorted() where !tracked.contains(environment) {
            await handOver(environment, reason: "it is no longer in the config")
        }
        if let read = try? await store.leases() {
            leases = read
        }
        metrics.update(snapshot(), now: Date())
    }

    /// Renews `environment`'s lease when due, or acquires it when this replica does not hold it yet.
    private func keep(_ environment: String) async {
        let sent = now()
        if var holding = holdings[environment] {
            guard sent >= holding.renewsAt else { return }
            do {
                let record = try await store.renew(environment, holder: replica, epoch: holding.epoch)
                guard let record, holding.renewed(sentAt: sent, epoch: record.epoch) else {
                    return await lose(environment, reason: "the lease expired or was taken over before it was renewed")
                }
                // The watchdog may have dropped it while the renewal was on its way: then it is acquired again.
                if holdings[environment] != nil {
                    holdings[environment] = holding
                }
            } catch {
                logger.warning("could not renew the lease", metadata: ["env": "\(environment)", "error": "\(error)",
                                                                       "actsFor": "\(String(format: "%.1f", holding.actsUntil - now()))s"])
            }
            return
        }
        do {
            guard let record = try await store.acquire(environment, holder: replica, duration: timing.duration) else { return }
            holdings[environment] = LeaseHolding(environment: environment, epoch: record.epoch, timing: timing, acquiredAt: sent)
            logger.log(.leaseAcquired, .info, "acquired the lease", ["env": "\(environment)", "epoch": "\(record.epoch)"])
            _ = await listener?(.gained(environment: environment, epoch: record.epoch))
        } catch {
            logger.warning("could not acquire the lease", metadata: ["env": "\(environment)", "error": "\(error)"])
        }
    }

    /// Another replica owns `environment` now (or it is gone): this one stops acting on it, then releases the lease
    /// at once when nothing was running, or as soon as the controller says the rollout that was running has stopped
    /// at its safe point (``stopped(_:)``); should that never come, the lease lapses by itself.
    private func handOver(_ environment: String, reason: String) async {
        guard let holding = holdings.removeValue(forKey: environment) else { return }
        logger.log(.leaseHandedOver, .info, "handing the environment over", ["env": "\(environment)", "epoch": "\(holding.epoch)", "reason": "\(reason)"])
        let idle = await listener?(.lost(environment: environment, reason: reason)) ?? true
        guard idle else {
            draining[environment] = holding.epoch
            return
        }
        await release(environment, epoch: holding.epoch)
    }

    /// The rollout of an environment this replica lost has stopped. A lease handed over (not one lost at its renew
    /// deadline, which is no longer this replica's to release) is released now, so its new owner takes it at its next
    /// retry period.
    public func stopped(_ environment: String) async {
        guard let epoch = draining.removeValue(forKey: environment), holdings[environment] == nil else { return }
        await release(environment, epoch: epoch)
    }

    private func release(_ environment: String, epoch: Int64) async {
        do {
            // Only this holder's row at this epoch: a lease taken over in the meantime is left alone.
            try await store.release(environment, holder: replica, epoch: epoch)
            logger.log(.leaseReleased, .info, "released the lease", ["env": "\(environment)", "epoch": "\(epoch)"])
        } catch {
            logger.warning("could not release the lease; it lapses by itself", metadata: ["env": "\(environment)", "error": "\(error)"])
        }
    }

    private func lose(_ environment: String, reason: String) async {
        guard let holding = holdings.removeValue(forKey: environment) else { return }
        logger.log(.leaseLost, .warning, "stopped acting on the environment", ["env": "\(environment)", "epoch": "\(holding.epoch)",
                                                                        "reason": "\(reason)"])
        _ = await listener?(.lost(environment: environment, reason: reason))
    }

    private func expire() async {
        let time = now()
        for (environment, holding) in holdings.sorted(by: { $0.key < $1.key }) where !holding.mayAct(at: time) {
            await lose(environment, reason: "no renewal succeeded within the renew deadline (\(timing.renewDeadline)); the lease may end elsewhere")
        }
    }

    /// A graceful stop: the controller has finished its steps; every lease is released and the replica leaves, so
    /// the other replicas take its environments at their next retry instead of after the lease duration.
    private func resign() async {
        for (environment, holding) in holdings.sorted(by: { $0.key < $1.key }) {
            try? await store.release(environment, holder: replica, epoch: holding.epoch)
        }
        holdings = [:]
        // The controller's steps have finished before a graceful stop: what was draining has stopped too.
        for (environment, epoch) in draining.sorted(by: { $0.key < $1.key }) {
            try? await store.release(environment, holder: replica, epoch: epoch)
        }
        draining = [:]
        do {
            try await store.leave(replica)
        } catch {
            logger.warning("could not leave the coordination store; the others take over when the leases end", metadata: ["error": "\(error)"])
        }
    }

    private func reachable() {
        if storeProblem != nil {
            logger.info("the coordination store answers again")
        }
        storeProblem = nil
    }

    private func unreachable(_ error: any Error) {
        let message = "\(error)"
        if storeProblem != message {
            logger.log(.coordinationUnreachable, .error,
                       "the coordination store does not answer; environments are acted on only until their renew deadline", ["error": "\(message)"])
        }
        storeProblem = message
        metrics.update(snapshot(), now: Date())
    }

    private func now() -> TimeInterval {
        (ContinuousClock.now - origin).inSeconds
    }
}

/// What changed in what a replica may act on.
public enum OwnershipChange: Sendable, Hashable {
    /// The replica holds the environment's lease now, under `epoch`: it reconciles it, level-based.
    case gained(environment: String, epoch: Int64)
    /// The replica may no longer act on the environment: its rollout stops, nothing more is published for it.
    case lost(environment: String, reason: String)
}

/// The coordination as one replica sees it.
public struct CoordinationSnapshot: Sendable, Hashable, Encodable {
    public var replica: String
    /// The replicas that heartbeat within a lease duration.
    public var replicas: [String]
    public var leases: [LeaseRecord]
    /// Why the store does not answer, when it does not.
    public var storeProblem: String?
    /// The environments this replica may act on now, with their epochs.
    public var held: [String: Int64]

    private enum CodingKeys: String, CodingKey { case replica, replicas, leases, storeProblem, held }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(replica, forKey: .replica)
        try container.encode(replicas, forKey: .replicas)
        try container.encodeIfPresent(storeProblem, forKey: .storeProblem)
        try container.encode(held, forKey: .held)
        try container.encode(leases.map { LeaseView(environment: $0.environment, holder: $0.holder, epoch: $0.epoch,
                                                    renewedAt: Timestamp.string(from: $0.renewedAt)) },
                             forKey: .leases)
    }

    private struct LeaseView: Encodable {
        var environment: String
        var holder: String
        var epoch: Int64
        var renewedAt: String
    }

    /// The replica holding `environment`'s lease, as last read.
    public func holder(of environment: String) -> LeaseRecord? {
        leases.first { $0.environment == environment }
    }
}

extension LeaseKeeper {
    /// What the status publisher stamps each status with: this replica and its epoch, nil when it may not act.
    static func stamp(_ keeper: LeaseKeeper) -> @Sendable (String) async -> LeaseStamp? {
        { environment in await keeper.epoch(for: environment).map { LeaseStamp(replica: keeper.replica, epoch: $0) } }
    }
}
