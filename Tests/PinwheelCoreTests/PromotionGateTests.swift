import Foundation
import Testing
@testable import PinwheelCore

@Suite("Promotion from staging")
struct PromotionGateTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static let release = PromotionGate.Pins(pins: ["hello-service==1.1.0", "click==8.1.7"], python: "/usr/bin/python3")
    static let old = PromotionGate.Pins(pins: ["hello-service==1.0.0", "click==8.1.7"], python: "/usr/bin/python3")

    static func status(_ time: String, _ result: EnvironmentStatus.Result, _ ran: PromotionGate.Pins, healthy: Bool = true,
                       commit: String = "c0ffee0000") -> PromotionGate.Observed {
        PromotionGate.Observed(time: at(time), result: result, ran: ran, healthy: healthy, desired: commit)
    }

    static func decide(_ history: [PromotionGate.Observed], now: String, candidate: PromotionGate.Pins = release) -> PromotionGate.Decision {
        PromotionGate.decide(candidate, history: history, from: "staging", soak: 30 * 60, now: at(now))
    }

    @Test func pinsCompareInAnyOrderWithTheirPython() {
        #expect(PromotionGate.Pins(pins: ["b==1", "a==1"], python: "p") == PromotionGate.Pins(pins: ["a==1", "b==1"], python: "p"))
        #expect(PromotionGate.Pins(pins: ["a==1"], python: "/usr/bin/python3.11") != PromotionGate.Pins(pins: ["a==1"], python: "/usr/bin/python3"))
    }

    @Test func itWaitsWhileStagingSoaksAndOpensAfterTheSoak() {
        let history = [Self.status("2026-11-20T10:00:00Z", .converged, Self.old),
                       Self.status("2026-11-21T09:00:00Z", .progressing, Self.release),
                       Self.status("2026-11-21T09:05:00Z", .converged, Self.release)]
        #expect(Self.decide(history, now: "2026-11-21T09:20:00Z")
            == .waiting("soaking in staging: it has run these pins converged since 2026-11-21T09:05:00Z; promotes at 2026-11-21T09:35:00Z",
                        until: Self.at("2026-11-21T09:35:00Z")))
        #expect(Self.decide(history, now: "2026-11-21T09:35:00Z") == .open(since: Self.at("2026-11-21T09:05:00Z")))
    }

    @Test func aStatusInBetweenRestartsTheSoak() {
        // Drift made staging degraded for a while: the soak counts from the converged status after it.
        let history = [Self.status("2026-11-21T09:00:00Z", .converged, Self.release),
                       Self.status("2026-11-21T09:20:00Z", .degraded, Self.release, healthy: false),
                       Self.status("2026-11-21T09:25:00Z", .converged, Self.release)]
        guard case let .waiting(_, until) = Self.decide(history, now: "2026-11-21T09:40:00Z") else {
            Issue.record("not waiting"); return
        }
        #expect(until == Self.at("2026-11-21T09:55:00Z"))
        // A run that ended (staging moved on) but lasted long enough still counts.
        let past = [Self.status("2026-11-21T09:00:00Z", .converged, Self.release),
                    Self.status("2026-11-21T10:00:00Z", .converged, Self.old)]
        #expect(Self.decide(past, now: "2026-11-21T10:05:00Z") == .open(since: Self.at("2026-11-21T09:00:00Z")))
    }

    @Test func otherPinsOrAnotherPythonWaitNamingWhatStagingHas() {
        let history = [Self.status("2026-11-20T10:00:00Z", .converged, Self.old)]
        #expect(Self.decide(history, now: "2026-11-21T10:00:00Z")
            == .waiting("staging has click==8.1.7, hello-service==1.0.0 (python /usr/bin/python3) (converged at 2026-11-20T10:00:00Z), "
                        + "not click==8.1.7, hello-service==1.1.0 (python /usr/bin/python3); waiting until it runs them converged for 30m",
                        until: nil))
        let otherPython = PromotionGate.Pins(pins: Self.release.pins, python: "/usr/bin/python3.12")
        let soaked = [Self.status("2026-11-20T10:00:00Z", .converged, otherPython)]
        guard case .waiting = Self.decide(soaked, now: "2026-11-21T10:00:00Z") else { Issue.record("another python promoted"); return }
        guard case let .waiting(message, nil) = Self.decide([], now: "2026-11-21T10:00:00Z") else { Issue.record("not waiting"); return }
        #expect(message.hasPrefix("staging has no status yet"))
    }

    @Test func pinsThatHaltedInStagingAreRefused() {
        let history = [Self.status("2026-11-21T09:00:00Z", .converged, Self.old),
                       Self.status("2026-11-21T09:10:00Z", .halted, Self.release, healthy: false, commit: "badbadbadbad")]
        #expect(Self.decide(history, now: "2026-11-21T12:00:00Z")
            == .refused("staging halted on these pins (click==8.1.7, hello-service==1.1.0 (python /usr/bin/python3)) at "
                        + "2026-11-21T09:10:00Z, commit badbadbadb; nothing applied"))
        // A later converged run of the same pins (a new commit) is a new decision.
        let retried = history + [Self.status("2026-11-21T10:00:00Z", .converged, Self.release)]
        #expect(Self.decide(retried, now: "2026-11-21T10:31:00Z") == .open(since: Self.at("2026-11-21T10:00:00Z")))
    }

    @Test func unhealthyConvergedStatusesDoNotCount() {
        let history = [Self.status("2026-11-21T09:00:00Z", .converged, Self.release, healthy: false)]
        guard case .waiting = Self.decide(history, now: "2026-11-21T12:00:00Z") else { Issue.record("promoted"); return }
    }

    @Test func aStatusReadsAsObserved() throws {
        let status = EnvironmentStatus(environment: "staging", desired: "abc", result: .converged, message: "", time: "2026-11-21T09:00:00Z",
                                       active: .b, pins: ["hello-service==1.1.0", "click==8.1.7"],
                                       hosts: ["web-01": .init(serving: .b, slots: [:], healthy: true)], python: "/usr/bin/python3")
        let observed = try #require(PromotionGate.Observed(status))
        #expect(observed.ran == Self.release && observed.healthy && observed.time == Self.at("2026-11-21T09:00:00Z"))
        var broken = status
        broken.time = "yesterday"
        #expect(PromotionGate.Observed(broken) == nil)
        let text = try status.yaml()
        #expect(try EnvironmentStatus.parse(text).python == "/usr/bin/python3")
    }

    @Test func aPolicyPromotesFromAnotherEnvironment() throws {
        var files = Fixture.files
        files[Fixture.policyPath] = "promotion: {from: staging, soak: 30m}\n"
        let policy = try #require(try Fixture.load(files).policies["prod"])
        #expect(policy.promotion == Promotion(from: "staging", soak: .seconds(1800)))
    }
}
