import PinwheelCore
import PinwheelEngine
import PinwheelTestSupport
import Testing
@testable import PinwheelController
@testable import PinwheelFleet
@testable import pinwheel

/// `watch`'s log lines carry a ``ControllerEvent`` code in their `event` field, and where they tell what `apply
/// --json` tells, they name it the same: one vocabulary for the engine's events, whichever command runs it.
@Suite("watch's log events")
struct LogEventVocabularyTests {
    @Test func theControllerLogAndApplyJSONNameEachEngineEventAlike() {
        let plan = HostPlan(host: "web-01", activate: [.prepare(.b), .start(.b), .check(.b)], route: .route(.b))
        let events: [ReconcileEvent] = [
            .observed("web-01", plan),
            .planned([plan, HostPlan(host: "web-02")], of: 2),
            .unreachable("web-03", FleetError(.unreachable, "connection refused").failure),
            .started(.observe(["web-01", "web-02"], switchingTo: nil)),
            .started(.prepare(["web-01"])),
            .started(.route(["web-01"], stage: .canary)),
            .started(.route(["web-02"], stage: .batch(1))),
            .started(.pause(.seconds(5))),
            .started(.prepareIdle(["web-01", "web-02"])),
            .started(.rollBack(["web-01": .a])),
            .started(.hook(.beforeSwitch, host: "web-01")),
            .phase(ProgressOutputTests.phase("web-01"), stage: .prepare),
            .phase(ProgressOutputTests.phase("web-02", ok: false), stage: .batch(1)),
        ]
        for event in events {
            let logs = CapturedLogs()
            ReconcileLog.log(event, to: logs.logger())
            let line = ApplyEventLine.lines(for: event).first
            #expect(logs.all.count == 1, "one log line for \(event)")
            let logged = logs.all.first?.metadata
            #expect(logged?["event"] != nil && logged?["event"] == line?.event, "\(event): \(String(describing: logged))")
            #expect(logged?["stage"] == line?.stage, "\(event): \(String(describing: logged))")
            if let code = line?.code {
                #expect(logged?["code"] == code, "\(event)")
            }
            if let ok = line?.ok {
                #expect(logged?["ok"] == "\(ok)", "\(event)")
            }
        }
    }

    @Test func everyCodeIsNamedOnceAndDotted() {
        let codes = ControllerEvent.allCases.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy { $0.wholeMatch(of: /[a-z]+(\.[a-z][a-zA-Z]*)?/) != nil }, "\(codes)")
    }

    /// The JSON log carries the code as a field of its own, as logfmt does, for log queries and alerts.
    @Test func theJSONLogCarriesTheCode() throws {
        let line = JSONLogHandler.line(time: .init(timeIntervalSince1970: 0), level: .info, message: "status committed",
                                       metadata: ["event": ControllerEvent.statusCommitted.rawValue, "result": "converged"])
        #expect(line.contains(#""event":"status.committed""#) && line.contains(#""result":"converged""#), "\(line)")
    }
}
