import Foundation
import PinwheelCore
import PinwheelFleet
import PinwheelProcess
import Synchronization

/// One host in memory that answers the host agent's requests as the agent (`Agent/pinwheel_agent.py`, which joins
/// its modules) does, in its reply shape (`reply` and `step_result`: one `PINWHEEL-RESULT` line, every key present):
/// observe, and execute's steps (prepare, start, check, route, verify, the hooks) in order under the host's lock,
/// stopping at the first failure with the agent's step code (`install`, `health`, `nginxTest`, `notPrepared`, …) and the observation after it.
///
/// It is a ``Transport``: the controller's real ``HostAgent`` sends it the real request script (it reads the
/// request from the script's `REQUEST` line) and parses its reply, so only the host is pretend. It also asks for the
/// agent's source on its first round trip, as a host that has not compiled this version yet does. No process, no
/// clock: a test decides when a host is down, hangs, or fails a step, and reads back what it was asked.
public final class InMemoryHost: Transport, Sendable {
    public let name: String
    private let state = Mutex(State())
    private let fleet: InMemoryFleet.Shared

    /// How the host answers a round trip.
    public enum Reachability: Sendable, Equatable {
        case up
        /// Refuses the connection at once (ssh exits with 255): ``FleetError/Code/unreachable``.
        case down
        /// Accepts and never answers: the round trip ends with ``FleetError/Code/timeout`` when its deadline passes
        /// or when ``answerAgain()`` is called, whichever is first.
        case hanging
    }

    /// A slot as the host has it.
    public struct SlotState: Sendable, Equatable {
        public var manifest: SlotManifest?
        public var running = false
        public var healthy = false
    }

    struct State {
        var slots: [Slot: SlotState] = [.a: SlotState(), .b: SlotState()]
        var routed: Slot?
        var routedFingerprint: String?
        var reachability = Reachability.up
        var hasAgent = false
        /// Another run holds the host's lock: execute answers `locked`.
        var locked = false
        var failures: [InMemoryFleet.Failure] = []
        /// The highest lease epoch seen for each environment: the agent's fence.
        var fences: [String: Int64] = [:]
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
        /// Round trips whose first step has this agent name wait until ``release()`` (see ``hold(_:)``).
        var held: String?
        var heldWaiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
        var clock = 0
    }

    init(name: String, fleet: InMemoryFleet.Shared) {
        self.name = name
        self.fleet = fleet
    }

    // MARK: What a test sets and reads

    public var reachability: Reachability {
        state.withLock { $0.reachability }
    }

    /// The host goes down: every round trip is refused until ``bringUp()``.
    public func takeDown() { state.withLock { $0.reachability = .down } }

    public func bringUp() { answerAgain() }

    /// The host accepts connections and never answers until ``answerAgain()``.
    public func hang() { state.withLock { $0.reachability = .hanging } }

    /// Ends a hang (round trips under way end with their timeout) or an outage.
    public func answerAgain() {
        let waiters = state.withLock { state in
            state.reachability = .up
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Round trips whose first step is named `step` (`prepare`, `route`, …: a canary's switch, not the observing
    /// round trip's verify-then-switch) wait, once the host has them and before it acts on them, until ``release()``: a round trip held under way, for a test to do something meanwhile (cancel
    /// the rollout, say). A held round trip whose task is cancelled ends at once as a killed ssh client would (a
    /// `timeout`, nothing done): what the engine's shielding of round trips must prevent.
    public func hold(_ step: String) { state.withLock { $0.held = step } }

    /// Lets held round trips go on, and holds no more.
    public func release() {
        let waiters = state.withLock { state in
            state.held = nil
            defer { state.heldWaiters = [:] }
            return Array(state.heldWaiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// How many round trips wait in a hold.
    public var heldRoundTrips: Int { state.withLock { $0.heldWaiters.count } }

    /// Another Pinwheel run holds (or no longer holds) the host's lock.
    public func setLocked(_ locked: Bool) { state.withLock { $0.locked = locked } }

    /// The step `step` (its agent name: `prepare`, `check`, `route`, …) fails on this host with `code`, `times` times
    /// (always when nil).
    public func fail(_ step: String, code: FailureCode, message: String? = nil, times: Int? = nil) {
        state.withLock { $0.failures.append(.init(step: step, code: code, pin: nil, message: message, times: times)) }
    }

    /// The slot nginx routes to, nil before the first switch.
    public var routed: Slot? { state.withLock { $0.routed } }

    public func slot(_ slot: Slot) -> SlotState { state.withLock { $0.slots[slot] ?? SlotState() } }

    /// What the host serves: the routed slot's pins (empty before the first switch).
    public var servedPins: [String] {
        state.withLock { state in state.routed.flatMap { state.slots[$0]?.manifest?.pins } ?? [] }
    }

    /// Something changed behind Pinwheel's back: the slot's processes stopped (drift).
    public func stopProcesses(_ slot: Slot) {
        state.withLock { $0.slots[slot]?.running = false }
    }

    // MARK: Transport

    public func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
        switch reachability {
        case .down:
            throw FleetError(.unreachable, "\(name) is unreachable: ssh: connect to host \(name) port 22: Connection refused")
        case .hanging:
            await waitWhileHanging(timeout: timeout)
            throw FleetError(.timeout, "\(name): no answer within \(timeout)")
        case .up:
            break
        }
        let script = script.text
        let withSource = !script.contains("SOURCE = \"\"\n")
        let knew = state.withLock { state in
            defer { if withSource { state.hasAgent = true } }
            return state.hasAgent
        }
        if !knew, !withSource {
            return CommandOutput(status: 0, standardOutput: "PINWHEEL-AGENT-MISSING\n", standardError: "")
        }
        let reply: InMemoryReply
        if let request = InMemoryRequest(script: script) {
            let held = state.withLock { $0.held }
            if let held, request.steps.first?.action == held, !(await waitWhileHeld()) {
                throw FleetError(.timeout, "\(name): the round trip was cut off (its task was cancelled)")
            }
            reply = answer(request)
            fleet.record(InMemoryFleet.Exchange(host: name, action: request.action, steps: request.steps, ok: reply.ok,
                                                code: (reply.steps.last(where: { !$0.ok })?.code ?? reply.code).flatMap(Self.failureCode),
                                                epoch: request.epoch))
        } else {
            reply = InMemoryReply(ok: false, code: FailureCode.badRequest.rawValue, error: "the request is not base64 JSON")
        }
        return CommandOutput(status: 0, standardOutput: "PINWHEEL-RESULT \(reply.json())\n", standardError: "")
    }

    public func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        throw FleetError(.agent, "\(name): an in-memory host has no logs and runs no commands")
    }

    public func interactive(python: String, script: ProcessInput) async throws -> Int32 {
        throw FleetError(.agent, "\(name): an in-memory host has no terminal")
    }

    /// True when released, false when the task was cancelled first.
    private func waitWhileHeld() async -> Bool {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let waiting = state.withLock { state in
                    guard state.held != nil, !Task.isCancelled else { return false }
                    state.heldWaiters[id] = continuation
                    return true
                }
                if !waiting { continuation.resume(returning: !Task.isCancelled) }
            }
        } onCancel: {
            state.withLock { $0.heldWaiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    private func waitWhileHanging(timeout: Duration) async {
        let id = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = state.withLock { state in
                guard state.reachability == .hanging else { return false }
                state.waiters[id] = continuation
                return true
            }
            guard waiting else { return continuation.resume() }
            Task { [self] in
                try? await Task.sleep(for: timeout)
                state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }

    // MARK: The agent

    private func answer(_ request: InMemoryRequest) -> InMemoryReply {
        guard request.protocol == 2 else {
            return InMemoryReply(ok: false, code: FailureCode.protocolMismatch.rawValue, error: "the host agent speaks protocol 2, the request is protocol \(request.protocol)")
        }
        let rules = fleet.failures
        return state.withLock { state in
            if let refusal = fence(request, record: request.action == "execute" && !state.locked, &state) {
                return InMemoryReply(ok: false, code: FailureCode.fenced.rawValue, error: refusal,
                                     observation: request.action == "execute" ? observation(state, request) : nil)
            }
            switch request.action {
            case "observe":
                return InMemoryReply(ok: true, observation: observation(state, request))
            case "execute":
                guard !state.locked else {
                    return InMemoryReply(ok: false, code: FailureCode.locked.rawValue, error: "another Pinwheel run held the lock for more than "
                                         + "600 seconds; try again when it is done", observation: observation(state, request))
                }
                return execute(request, rules: rules, &state)
            default:
                return InMemoryReply(ok: false, code: FailureCode.badRequest.rawValue, error: "malformed request: \(request.action) is not served in memory")
            }
        }
    }

    /// Why the request's lease epoch may not act, as the agent's `fence` says it; an execute under the lock raises the
    /// fence to its epoch. A request without an epoch is not fenced.
    private func fence(_ request: InMemoryRequest, record: Bool, _ state: inout State) -> String? {
        guard let epoch = request.epoch else { return nil }
        let highest = state.fences[request.environment] ?? 0
        if epoch < highest {
            return "refused: lease epoch \(epoch) is below \(highest), the highest this host has seen for \(request.environment): "
                + "another controller owns the environment now"
        }
        if record { state.fences[request.environment] = epoch }
        return nil
    }

    /// The highest lease epoch this host has seen for `environment` (0: none).
    public func fence(of environment: String) -> Int64 { state.withLock { $0.fences[environment] ?? 0 } }

    private func execute(_ request: InMemoryRequest, rules: [InMemoryFleet.Failure], _ state: inout State) -> InMemoryReply {
        var done: [InMemoryReply.StepResult] = []
        for step in request.steps {
            let slot = step.slot
            let resolved = request.slots[slot]
            if let failure = takeFailure(step.action, pins: Self.pins(of: resolved.spec), rules: rules, &state) {
                if failure.code == .health { state.slots[slot]?.healthy = false }
                let message = failure.message ?? "\(step.action) failed on \(name) (\(failure.code))"
                done.append(.init(step: step, ok: false, code: failure.code.rawValue, error: message))
                return InMemoryReply(ok: false, code: "stepFailed", error: "\(step.action) \(slot): \(message)", steps: done,
                                     observation: observation(state, request))
            }
            switch perform(step, resolved: resolved, commit: request.commit, &state) {
            case let .success(changed):
                done.append(.init(step: step, ok: true, changed: changed))
            case let .failure(failure):
                done.append(.init(step: step, ok: false, code: failure.code.rawValue, error: failure.message))
                return InMemoryReply(ok: false, code: "stepFailed", error: "\(step.action) \(slot): \(failure.message)",
                                     steps: done, observation: observation(state, request))
            }
        }
        return InMemoryReply(ok: true, steps: done, observation: observation(state, request))
    }

    private struct StepFailed: Error {
        var code: FailureCode
        var message: String
    }

    /// One step, as the agent's collaborator's method of the same name does it (`STEP_OWNERS` in `pinwheel_agent.py`).
    private func perform(_ step: HostPlan.Step, resolved: ResolvedSlot, commit: String?,
                         _ state: inout State) -> Result<Bool, StepFailed> {
        let slot = step.slot
        var current = state.slots[slot] ?? SlotState()
        defer { state.slots[slot] = current }
        switch step {
        case .prepare:
            state.clock += 1
            current = SlotState(manifest: SlotManifest(fingerprint: resolved.fingerprint, pins: Self.pins(of: resolved.spec),
                                                       commit: commit, preparedAt: Self.time(state.clock), installer: "uv"))
            return .success(true)
        case .start:
            guard current.manifest != nil else { return .failure(StepFailed(code: .notPrepared, message: "slot \(slot) is not prepared")) }
            current.running = true
            return .success(true)
        case .check:
            guard current.manifest != nil, current.running else {
                current.healthy = false
                return .failure(StepFailed(code: .health, message: "slot \(slot) failed its health check: not running"))
            }
            current.healthy = true
            return .success(false)
        case .verify:
            guard let manifest = current.manifest, manifest.fingerprint == resolved.fingerprint else {
                return .failure(StepFailed(code: .notPrepared, message: "slot \(slot) is not prepared as desired"))
            }
            if manifest.servedAt == nil, state.routed != slot || state.routedFingerprint != resolved.fingerprint {
                return .failure(StepFailed(code: .notServed, message: "slot \(slot) has never served traffic on this host"))
            }
            guard current.running, current.healthy else {
                return .failure(StepFailed(code: .notReady, message: "slot \(slot) is not ready: not running"))
            }
            return .success(false)
        case .route:
            let changed = state.routed != slot || state.routedFingerprint != resolved.fingerprint
            state.routed = slot
            state.routedFingerprint = resolved.fingerprint
            if current.manifest?.servedAt == nil, current.manifest?.fingerprint == resolved.fingerprint {
                state.clock += 1
                current.manifest?.servedAt = Self.time(state.clock)
            }
            return .success(changed)
        case .beforeSwitch, .afterSwitch:
            return .success(true)
        }
    }

    /// The first failure that applies to this step, counted down.
    private func takeFailure(_ action: String, pins: [String], rules: [InMemoryFleet.Failure],
                             _ state: inout State) -> InMemoryFleet.Failure? {
        if let index = state.failures.firstIndex(where: { $0.step == action }) {
            let failure = state.failures[index]
            if let times = failure.times {
                if times <= 1 { state.failures.remove(at: index) } else { state.failures[index].times = times - 1 }
            }
            return failure
        }
        return rules.first { rule in rule.step == action && (rule.pin.map { pins.contains($0) } ?? true) }
    }

    /// What the host has, as the agent's `observe` reports it.
    private func observation(_ state: State, _ request: InMemoryRequest) -> HostObservation {
        var slots = PerSlot(a: SlotObservation(), b: SlotObservation())
        for slot in [Slot.a, .b] {
            let current = state.slots[slot] ?? SlotState()
            guard let manifest = current.manifest else { continue }
            var processes: [String: [String]] = [:]
            for program in request.slots[slot].spec.programs {
                processes[program.supervisorName] = Array(repeating: current.running ? "RUNNING" : "STOPPED",
                                                          count: max(program.processes, 1))
            }
            let healthy = current.running && current.healthy
            slots[slot] = SlotObservation(manifest: manifest, processes: processes, healthy: healthy,
                                          problems: healthy ? [] : ["slot \(slot) is not running and healthy"])
        }
        return HostObservation(slots: slots, routed: state.routed, routedFingerprint: state.routedFingerprint)
    }

    /// A reply's code as ``FailureCode``; nil for `stepFailed`, whose failed step carries the code.
    private static func failureCode(_ raw: String) -> FailureCode? {
        raw == "stepFailed" ? nil : FailureCode(raw)
    }

    /// `name==version` of each pin, as the agent's manifest lists them.
    static func pins(of spec: SlotSpec) -> [String] {
        spec.requirements.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }.filter { !$0.isEmpty }
    }

    /// A time on the host's pretend clock: each event one second after the last.
    private static func time(_ tick: Int) -> String {
        String(format: "2026-01-01T00:%02d:%02dZ", (tick / 60) % 60, tick % 60)
    }
}
