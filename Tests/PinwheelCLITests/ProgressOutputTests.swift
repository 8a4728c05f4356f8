import Foundation
import PinwheelCore
import Testing
@testable import pinwheel
@testable import PinwheelFleet
import PinwheelEngine

/// `apply --json`'s event lines and the terminal's live status line: pure, from engine events.
@Suite("apply's progress output")
struct ProgressOutputTests {
    static func phase(_ host: String, ok: Bool = true, _ steps: [HostPlan.Step] = [.prepare(.b), .start(.b), .check(.b)]) -> PhaseResult {
        let outcomes = steps.enumerated().map { index, step in
            StepOutcome(step: step, ok: ok || index < steps.count - 1, seconds: 1.23456, output: [], changed: true)
        }
        return PhaseResult(host: host, requested: steps, outcomes: outcomes,
                           error: ok ? nil : Self.unhealthy,
                           duration: .milliseconds(3700))
    }

    static let unhealthy = HostFailure(.health, step: "check B", message: "slot B failed its health check: not healthy",
                                       detail: "Traceback …")

    @Test func eachEventBecomesVersionedLines() throws {
        let plan = HostPlan(host: "web-01", activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b))
        var lines = ApplyEventLine.lines(for: .observed("web-01", plan))
        lines += ApplyEventLine.lines(for: .planned([plan, HostPlan(host: "web-02")], of: 2))
        lines += ApplyEventLine.lines(for: .started(.prepare(["web-01", "web-02"])))
        lines += ApplyEventLine.lines(for: .phase(Self.phase("web-01"), stage: .prepare))
        lines += ApplyEventLine.lines(for: .phase(Self.phase("web-02", ok: false), stage: .prepare))
        lines += ApplyEventLine.lines(for: .started(.pause(.seconds(5))))
        lines += ApplyEventLine.lines(for: .unreachable("web-03", FleetError(.unreachable, "connection refused").failure))
        lines += ApplyEventLine.lines(for: .finished(.init(result: .halted, failures: ["web-02": Self.unhealthy], revert: false, message: "halted")))
        let events = lines.map(\.event)
        #expect(events == ["host.observed", "planned", "stage.started", "host.started", "host.started", "host.finished",
                           "host.finished", "stage.started", "host.unreachable", "rollout.finished"])
        let texts = lines.map { $0.json() }
        #expect(texts.allSatisfy { !$0.contains("\n") && $0.hasPrefix("{") })
        let decoded = try texts.map { try JSONDecoder().decode(ApplyEventLine.self, from: Data($0.utf8)) }
        #expect(decoded == lines)
        #expect(decoded.allSatisfy { $0.v == 1 })
        #expect(decoded[0].steps?.map(\.step) == ["prepare B", "start B", "check B", "switch to B"])
        #expect(decoded[1].changing == 1 && decoded[1].total == 2)
        #expect(decoded[2].stage == "prepare" && decoded[2].hosts == ["web-01", "web-02"])
        #expect(decoded[3].host == "web-01" && decoded[3].stage == "prepare")
        #expect(decoded[5].ok == true && decoded[5].seconds == 3.7 && decoded[5].steps?.first?.seconds == 1.235)
        #expect(decoded[6].ok == false && decoded[6].code == "health" && decoded[6].failedStep == "check B")
        #expect(!texts[6].contains("Traceback"), "what the host printed is not in the event line")
        #expect(decoded[7].stage == "pause" && decoded[7].seconds == 5 && decoded[7].hosts == [])
        #expect(decoded[8].code == "unreachable")
        #expect(decoded[9].result == "halted" && decoded[9].reasons?["web-02"]?.code == "health")
        #expect(decoded[9].reason == StatusReason(code: "health", step: "check B", message: "web-02: slot B failed its health check: not healthy"))
        #expect(texts[1] == #"{"changing":1,"event":"planned","total":2,"v":1}"#)
        // A release hook is a stage of one host, named as the engine names its phase.
        let hook = ApplyEventLine.lines(for: .started(.hook(.beforeSwitch, host: "web-01")))
        #expect(hook.map(\.event) == ["stage.started", "host.started"])
        #expect(hook.allSatisfy { $0.stage == "beforeSwitch hook" })
    }

    @Test func theStatusLineCountsTheStageAndTheRollout() {
        var board = TerminalProgress(environment: "production", hosts: 4)
        #expect(board.statusLine(at: .zero) == "production ▸ starting · 0 changed, 0 failed of 4 · 0s")
        #expect(board.record(.started(.observe(["web-01", "web-02", "web-03", "web-04"], switchingTo: nil)), at: .zero) == [])
        _ = board.record(.observed("web-01", HostPlan(host: "web-01")), at: .seconds(1))
        #expect(board.statusLine(at: .seconds(1)) == "production ▸ observe: 1/4 hosts · 0 changed, 0 failed of 4 · 1s")
        #expect(board.record(.unreachable("web-04", FleetError(.unreachable, "connection refused").failure), at: .seconds(1))
            == ["  web-04: unreachable — connection refused"])
        #expect(board.record(.unreachable("web-05", FleetError(.timeout, "web-05 (127.0.0.15:22) did not answer in 30s").failure), at: .seconds(1))
            == ["  web-05 (127.0.0.15:22) did not answer in 30s (timeout)"], "the message names the host already")
        #expect(board.record(.started(.prepare(["web-01", "web-02", "web-03"])), at: .seconds(2)) == [])
        #expect(board.record(.phase(Self.phase("web-01"), stage: .prepare), at: .seconds(5)) == [])
        #expect(board.record(.phase(Self.phase("web-02", ok: false), stage: .prepare), at: .seconds(6))
            == ["  web-02: check B FAILED (health) — slot B failed its health check: not healthy"])
        #expect(board.statusLine(at: .seconds(7)) == "production ▸ prepare: 2/3 hosts, 1 failed · 1 changed, 3 failed of 4 · 7s")
        _ = board.record(.phase(Self.phase("web-03"), stage: .prepare), at: .seconds(8))
        #expect(board.record(.started(.pause(.seconds(10))), at: .milliseconds(8500)) == ["✗ prepare: 3/3 hosts, 1 failed in 6.5s"])
        #expect(board.statusLine(at: .seconds(12)) == "production ▸ pause: 7s before the next batch · 2 changed, 3 failed of 4 · 12s")
        _ = board.record(.started(.route(["web-01"], stage: .canary)), at: .seconds(19))
        _ = board.record(.phase(Self.phase("web-01", [.route(.b), .check(.b)]), stage: .canary), at: .seconds(20))
        #expect(board.record(.finished(.init(result: .halted, failures: [:], revert: false, message: "halted: 3 hosts failed\nmore")), at: .seconds(21))
            == ["✓ canary: 1/1 host in 2.0s", "halted: 3 hosts failed"])
        #expect(board.statusLine(at: .seconds(21)) == "production ▸ halted · 2 changed, 3 failed of 4 · 21s")
        #expect(board.statusLine(at: .seconds(21), width: 20) == "production ▸ halted…")
    }
}
