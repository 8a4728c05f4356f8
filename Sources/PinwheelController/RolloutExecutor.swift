import Foundation
import Logging
import PinwheelCore
import PinwheelFleet

/// Carries out a rollout: asks the `RolloutMachine` what to do, does it on the hosts in parallel, reports back.
///
/// All the decisions are the machine's; this type only runs host phases, sleeps the pauses, and keeps the last
/// thing each host reported, for the status.
struct RolloutExecutor {
    let environment: Environment
    let agents: [String: HostAgent]
    let logger: Logger
    /// Asked between actions: when it says stop, no new action starts (running host steps finish).
    let shouldStop: @Sendable () async -> Bool

    struct Result {
        var outcome: RolloutMachine.Outcome
        /// What each host reported last.
        var observations: [String: HostObservation]
        var stoppedEarly: Bool
    }

    func run(plans: [HostPlan], observations: [String: HostObservation]) async -> Result {
        let previous = observations.compactMapValues(\.routed)
        var machine = RolloutMachine(policy: environment.policy, plans: plans, order: environment.hosts.map(\.name),
                                     previous: previous)
        var latest = observations
        let plansByHost = Dictionary(uniqueKeysWithValues: plans.map { ($0.host, $0) })
        while true {
            let action = machine.next()
            if case let .finish(outcome) = action {
                return Result(outcome: outcome, observations: latest, stoppedEarly: false)
            }
            if await shouldStop() {
                let outcome = RolloutMachine.Outcome(result: .progressing, failures: machine.failures, revert: false,
                                                     message: "stopped by a shutdown before the rollout finished")
                return Result(outcome: outcome, observations: latest, stoppedEarly: true)
            }
            var failed: [String: String] = [:]
            switch action {
            case let .prepare(hosts):
                logger.info("preparing the active slot", metadata: ["hosts": "\(hosts.count)"])
                failed = await runPhase(hosts, limit: environment.policy.rollout.prepare, into: &latest) { plansByHost[$0]?.activate ?? [] }
            case let .route(hosts, stage):
                logger.info("switching to slot \(environment.active)", metadata: ["stage": "\(stage)", "hosts": "\(hosts.joined(separator: ","))"])
                failed = await runPhase(hosts, limit: max(hosts.count, 1), into: &latest) { _ in
                    [.route(environment.active), .check(environment.active)]
                }
            case let .pause(duration):
                logger.info("pausing between batches", metadata: ["pause": "\(duration)"])
                try? await Task.sleep(for: duration.duration)
            case let .prepareIdle(hosts):
                logger.info("preparing the idle slot", metadata: ["hosts": "\(hosts.count)"])
                failed = await runPhase(hosts, limit: environment.policy.rollout.prepare, into: &latest) { plansByHost[$0]?.idle ?? [] }
            case let .rollBack(slots):
                logger.warning("rolling back switched hosts", metadata: ["hosts": "\(slots.keys.sorted().joined(separator: ","))"])
                failed = await runPhase(slots.keys.sorted(), limit: max(slots.count, 1), into: &latest) { host in
                    slots[host].map { [.route($0)] } ?? []
                }
            case .finish:
                break
            }
            machine.record(action, failed: failed)
        }
    }

    /// Runs each host's steps, at most `limit` at once; returns the hosts that failed, with the reason.
    func runPhase(_ hosts: [String], limit: Int, into latest: inout [String: HostObservation],
                          steps: @escaping @Sendable (String) -> [HostPlan.Step]) async -> [String: String] {
        let agents = self.agents
        let logger = self.logger
        let results: [PhaseResult?] = await concurrentMap(hosts, limit: limit) { host in
            guard let agent = agents[host] else { return nil }
            let result = await agent.execute(steps(host))
            var metadata: Logger.Metadata = ["host": "\(host)", "steps": "\(result.requested.map(\.description).joined(separator: ", "))",
                                             "seconds": "\(String(format: "%.2f", result.duration.inSeconds))"]
            if let error = result.error {
                metadata["error"] = "\(error.message)"
                logger.error("host step failed", metadata: metadata)
            } else {
                logger.info("host step done", metadata: metadata)
            }
            return result
        }
        var failed: [String: String] = [:]
        for result in results.compactMap({ $0 }) {
            if let observation = result.observation { latest[result.host] = observation }
            if let error = result.error { failed[result.host] = error.message }
        }
        return failed
    }
}
