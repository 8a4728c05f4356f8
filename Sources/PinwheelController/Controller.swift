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

    private var repository: WatchedRepository?
    /// The branch tip last read.
    private var lastTip: ObjectID?
    /// What was last carried out for each environment: its desired state and the commit it came from.
    private var applied: [String: (environment: Environment, commit: ObjectID)] = [:]
    /// What each environment's hosts reported at the end of its last reconcile, to switch back to warm slots in
    /// one round trip.
    private var lastObservations: [String: [String: HostObservation]] = [:]
    /// The last status committed for each environment.
    private var statuses: [String: EnvironmentStatus] = [:]
    private var lastPoll: Date?
    private var lastDriftCheck = ContinuousClock.now
    private var lastError: String?
    private var failedPolls = 0
    private var stopping = false
    private var forceNextPoll = false

    public init(configuration: ControllerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: The loop

    /// Runs until `stop()`: poll, reconcile what changed, check drift now and then, wait for the interval or a wake-up.
    public func run() async {
        logger.info("watching", metadata: ["repository": "\(configuration.repository)", "branch": "\(configuration.branch)",
                                           "interval": "\(configuration.interval)"])
        while !stopping {
            await poll()
            if stopping { break }
            if ContinuousClock.now - lastDriftCheck >= configuration.driftInterval {
                await checkDrift()
            }
            // Back off while the remote is unreachable: 2, 4, 8 ... intervals, at most a minute.
            let factor = failedPolls == 0 ? 1 : min(1 << min(failedPolls, 6), 12)
            await wakeup.wait(timeout: min(configuration.interval * factor, max(configuration.interval, .seconds(60))))
        }
        logger.info("stopped")
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

    // MARK: Polling

    /// One poll: fetch; when the branch moved, reconcile every environment whose desired state changed.
    public func poll() async {
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
        guard tip != lastTip || forceNextPoll else { return }
        forceNextPoll = false
        logger.info("new commit", metadata: ["commit": "\(tip.short)"])
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
            if let previous = applied[name], previous.environment == desired,
               statuses[name]?.result != .invalid {
                continue
            }
            await reconcile(desired, commit: tip, source: source, repository: repository)
        }
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
            errors: diagnostics.map(\.description))
        await publish(status, repository: repository)
    }

    // MARK: Reconciling

    /// Observes the environment's hosts, plans each, and rolls the plans out by the environment's policy.
    private func reconcile(_ desired: Environment, commit: ObjectID, source: any ConfigSource, repository: WatchedRepository) async {
        let log = logger.with(["env": "\(desired.name)", "commit": "\(commit.short)"])
        let started = ContinuousClock.now
        let agents: [String: HostAgent]
        do {
            let transports = try TransportFactory.transports(for: desired, source: source,
                                                             controlDirectory: configuration.controlDirectory)
            agents = Dictionary(uniqueKeysWithValues: desired.hosts.compactMap { host in
                transports[host.name].map { (host.name, HostAgent(host: host, environment: desired, transport: $0, commit: commit.hex)) }
            })
        } catch {
            log.error("cannot reach the hosts", metadata: ["error": "\(error)"])
            return
        }

        let executor = RolloutExecutor(environment: desired, agents: agents, logger: log, shouldStop: { [weak self] in
            await self?.shouldStop ?? true
        })
        await switchToWarmSlotsFirst(desired, executor: executor, log: log)

        // Observe every host, in parallel.
        var observations: [String: HostObservation] = [:]
        var unreachable: [String: String] = [:]
        let found = await Self.observeAll(agents)
        for (name, result) in found {
            switch result {
            case let .observed(observation): observations[name] = observation
            case let .unreachable(message):
                unreachable[name] = message
                log.error("host unreachable", metadata: ["host": "\(name)", "error": "\(message)"])
            }
        }
        let plans = desired.hosts.compactMap { host in
            observations[host.name].map { Planner.plan(desired, host: host, observed: $0) }
        }
        let changing = plans.filter { !$0.isEmpty }
        if !changing.isEmpty {
            log.info("rolling out", metadata: ["active": "\(desired.active)", "hosts": "\(changing.count)/\(desired.hosts.count)"])
        }

        let result = await executor.run(plans: plans, observations: observations)
        lastObservations[desired.name] = result.observations
        var outcome = result.outcome
        if !unreachable.isEmpty && outcome.result == .converged {
            outcome.result = .degraded
            outcome.message = "\(unreachable.count) host\(unreachable.count == 1 ? "" : "s") unreachable (\(unreachable.keys.sorted().joined(separator: ", "))); the others serve the desired slot"
        }
        let elapsed = ContinuousClock.now - started
        log.info("reconciled", metadata: ["result": "\(outcome.result.rawValue)", "seconds": "\(Self.seconds(elapsed))",
                                          "message": "\(outcome.message)"])

        var revert: String?
        if outcome.revert, !result.stoppedEarly {
            revert = await revertRelease(desired, commit: commit, outcome: outcome, repository: repository, log: log)
        }
        var errors = unreachable
        errors.merge(outcome.failures) { first, _ in first }
        let status = EnvironmentStatus(environment: desired, commit: commit.hex, result: outcome.result, message: outcome.message,
                                       time: Self.now(), observations: result.observations, errors: errors, revert: revert)
        applied[desired.name] = (desired, commit)
        await publish(status, repository: repository)
        if revert != nil {
            // The revert is a new commit: reconcile it at once, it puts the idle slot back.
            forceNextPoll = true
            wakeup.signal()
        }
    }

    /// A rollback's fast path: when what every host reported last time says the change is only a switch to slots
    /// that are already warm, switch them now — each host verifying its slot first — before observing anything.
    /// The regular reconcile that follows then finds the switch done and only re-prepares idle slots.
    private func switchToWarmSlotsFirst(_ desired: Environment, executor: RolloutExecutor, log: Logger) async {
        guard let cached = lastObservations[desired.name] else { return }
        var hosts: [String] = []
        for host in desired.hosts {
            guard let observed = cached[host.name] else { return }
            let plan = Planner.plan(desired, host: host, observed: observed)
            guard plan.activate.isEmpty else { return }
            if plan.route != nil { hosts.append(host.name) }
        }
        guard !hosts.isEmpty else { return }
        log.info("switching to warm slot \(desired.active) first", metadata: ["hosts": "\(hosts.count)"])
        var latest: [String: HostObservation] = [:]
        let failed = await executor.runPhase(hosts, limit: hosts.count, into: &latest) { _ in
            [.verify(desired.active), .route(desired.active)]
        }
        if !failed.isEmpty {
            log.warning("some hosts were not as last seen; they are observed and planned afresh",
                        metadata: ["hosts": "\(failed.keys.sorted().joined(separator: ","))"])
        }
    }

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
            let revert = try await repository.revert(offending.id, message: message)
            log.warning("reverted the release", metadata: ["reverted": "\(offending.id.short)", "revert": "\(revert.short)"])
            return revert.hex
        } catch {
            log.error("could not revert the release", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Commits `status` to the status branch when it says something new.
    private func publish(_ status: EnvironmentStatus, repository: WatchedRepository) async {
        if statuses[status.environment] == nil {
            statuses[status.environment] = try? repository.latestStatus(of: status.environment)
        }
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
    public func checkDrift() async {
        lastDriftCheck = ContinuousClock.now
        guard let repository else { return }
        for (name, state) in applied.sorted(by: { $0.key < $1.key }) {
            if stopping { return }
            guard statuses[name]?.result != .halted, statuses[name]?.result != .invalid else { continue }
            let source = repository.source(at: state.commit)
            guard let transports = try? TransportFactory.transports(for: state.environment, source: source,
                                                                    controlDirectory: configuration.controlDirectory) else { continue }
            var drifted: [String] = []
            await withTaskGroup(of: String?.self) { group in
                for host in state.environment.hosts {
                    guard let transport = transports[host.name] else { continue }
                    let agent = HostAgent(host: host, environment: state.environment, transport: transport, commit: state.commit.hex)
                    group.addTask {
                        guard let observation = try? await agent.observe() else { return host.name }
                        return Planner.plan(state.environment, host: host, observed: observation).isEmpty ? nil : host.name
                    }
                }
                for await host in group {
                    if let host { drifted.append(host) }
                }
            }
            guard !drifted.isEmpty else { continue }
            let log = logger.with(["env": "\(name)", "commit": "\(state.commit.short)"])
            log.warning("drift", metadata: ["hosts": "\(drifted.sorted().joined(separator: ","))", "drift": "\(state.environment.policy.drift.rawValue)"])
            if state.environment.policy.drift == .heal {
                await reconcile(state.environment, commit: state.commit, source: source, repository: repository)
            } else if var status = statuses[name] {
                status.result = .degraded
                status.message = "drift: \(drifted.sorted().joined(separator: ", ")) no longer match\(drifted.count == 1 ? "es" : "") \(state.commit.short)"
                status.time = Self.now()
                await publish(status, repository: repository)
            }
        }
    }

    // MARK: Helpers

    private enum Observed: Sendable {
        case observed(HostObservation)
        case unreachable(String)
    }

    /// Observes every host at once.
    private static func observeAll(_ agents: [String: HostAgent]) async -> [String: Observed] {
        await withTaskGroup(of: ObservedHost.self) { group in
            for (name, agent) in agents {
                group.addTask {
                    do {
                        return ObservedHost(name: name, result: .observed(try await agent.observe()))
                    } catch {
                        return ObservedHost(name: name, result: .unreachable((error as? FleetError)?.message ?? "\(error)"))
                    }
                }
            }
            var results: [String: Observed] = [:]
            for await host in group {
                results[host.name] = host.result
            }
            return results
        }
    }

    private struct ObservedHost: Sendable {
        var name: String
        var result: Observed
    }

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
