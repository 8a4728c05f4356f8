import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelEngine
import Synchronization

/// Where the time of an `apply` went, collected from the reconcile's events (`apply --timings`): the wall time of
/// each action the rollout ran, in order, and for each kind of host step the slowest host's seconds.
///
/// It only listens: the engine's decisions are the same with it or without it.
final class PhaseTimings: Sendable {
    struct Action: Equatable {
        var name: String
        var seconds: Double
    }

    struct Step: Equatable {
        var kind: String
        /// The slowest host's seconds for a step of this kind.
        var slowest: Double
        /// How many steps of this kind ran, over all hosts and actions.
        var count: Int
    }

    private struct State {
        var actions: [Action] = []
        var current: (name: String, started: ContinuousClock.Instant, warmSwitches: Int)?
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
        var steps: [String: Step] = [:]
        /// The slowest host's nginx verification inside `route` steps, as the agent measures it (`nginxVerifySeconds`).
        var nginxVerify: Double?

        /// Ends the action under way, if any. An observe during which a host switched to its warm slot is named so;
        /// an action run again gets a number (`observe #2`).
        mutating func close(at now: ContinuousClock.Instant) {
            if let current {
                var name = current.name
                if current.warmSwitches > 0 { name += " + warm switch" }
                let repeats = actions.filter { $0.name == name || $0.name.hasPrefix(name + " #") }.count
                if repeats > 0 { name += " #\(repeats + 1)" }
                actions.append(Action(name: name, seconds: (now - current.started).inSeconds))
                self.current = nil
            }
            last = now
        }
    }

    private let state = Mutex(State())

    /// The order step kinds are printed in: the order a host runs them.
    static let stepKinds = ["verify", "prepare", "start", "check", "route"]

    func record(_ event: ReconcileEvent, at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            switch event {
            case let .started(action):
                state.close(at: now)
                guard let name = Self.name(of: action) else { return }
                state.current = (name, now, 0)
                if state.first == nil { state.first = now }
            case let .phase(result, stage):
                if stage == .warmSwitch { state.current?.warmSwitches += 1 }
                for outcome in result.outcomes {
                    let kind = outcome.step.action
                    var step = state.steps[kind] ?? Step(kind: kind, slowest: 0, count: 0)
                    step.slowest = max(step.slowest, outcome.seconds)
                    step.count += 1
                    state.steps[kind] = step
                    if let seconds = outcome.nginxVerifySeconds {
                        state.nginxVerify = max(state.nginxVerify ?? 0, seconds)
                    }
                }
            case .finished:
                state.close(at: now)
            case .observed, .planned, .unreachable:
                break
            }
        }
    }

    var actions: [Action] { state.withLock { $0.actions } }

    /// The lines `apply --timings` prints after its summary. Each names an action or a step kind and ends with
    /// seconds, so scripts can read them: `  action  switch canary        0.40s`, `  step    prepare   1.95s  slowest of 3`.
    var lines: [String] {
        let (actions, steps, total, nginx) = state.withLock { state in
            (state.actions, state.steps, state.first.flatMap { first in state.last.map { ($0 - first).inSeconds } }, state.nginxVerify)
        }
        var lines = ["timings: wall time of each action, in order"]
        for action in actions {
            lines.append(Self.line("action", action.name, action.seconds))
        }
        if let total { lines.append(Self.line("action", "total", total)) }
        lines.append("timings: the slowest host's seconds per step")
        let ordered = Self.stepKinds.compactMap { steps[$0] } + steps.values.filter { !Self.stepKinds.contains($0.kind) }.sorted { $0.kind < $1.kind }
        if ordered.isEmpty { lines.append("  (no host ran a step)") }
        for step in ordered {
            lines.append(Self.line("step", step.kind, step.slowest) + "  slowest of \(step.count)")
            if step.kind == "route", let nginx {
                lines.append(Self.line("step", "route: nginx verify", nginx) + "  slowest host's verification through nginx")
            }
        }
        return lines
    }

    private static func line(_ what: String, _ name: String, _ seconds: Double) -> String {
        "  " + what.padding(toLength: 8, withPad: " ", startingAt: 0) + name.padding(toLength: max(22, name.count + 1), withPad: " ", startingAt: 0)
            + String(format: "%6.2fs", seconds)
    }

    /// How the timings name an action: its stage's name, a switch's prefixed (`switch canary`, `switch batch 1`).
    static func name(of action: RolloutMachine.Action) -> String? {
        guard let stage = action.stage else { return nil }
        return stage.switchesHosts ? "switch \(stage.name)" : stage.name
    }
}
