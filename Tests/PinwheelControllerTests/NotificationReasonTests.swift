import Foundation
import PinwheelCore
import Testing
@testable import PinwheelController

/// A notification carries why a status says what it says as data, the status's and each host's, and what a host
/// printed only as that host's `detail` (the status in git never has it).
@Suite("Notification reasons")
struct NotificationReasonTests {
    static let failure = HostFailure(.health, step: "check B", message: "slot B failed its health check: /healthz answered status 500",
                                     detail: "Traceback …")

    static func status() -> EnvironmentStatus {
        var status = EnvironmentStatus(environment: "prod", desired: String(repeating: "c", count: 40), result: .halted,
                                       message: "halted: 1 host failed", time: "t", active: .b, pins: [],
                                       hosts: ["web-01": .init(observation: nil, failure: Self.failure),
                                               "web-02": .init(serving: .a, slots: [:], healthy: true)])
        status.cause = StatusReason(code: "health", step: "check B", message: "web-01: \(Self.failure.message)")
        return status
    }

    @Test func theEventCarriesTheStatussAndEachHostsReason() throws {
        let event = NotificationEvent(.halted, status: Self.status(), time: "t")
        #expect(event.reason?.code == "health")
        #expect(event.hosts.first { $0.name == "web-01" }?.reason == Self.failure.reason)
        #expect(event.hosts.first { $0.name == "web-02" }?.reason == nil)
        let body = String(decoding: event.webhookBody(), as: UTF8.self)
        #expect(body.contains(#""reason":{"code":"health","message":"#))
        #expect(!body.contains("Traceback"), "a status never holds what the host printed")
    }

    @Test func aHostsDetailIsCarriedWhenTheControllerHasIt() {
        var event = NotificationEvent(.halted, status: Self.status(), time: "t")
        event.hosts[0].detail = Self.failure.detail
        #expect(String(decoding: event.webhookBody(), as: UTF8.self).contains(#""detail":"Traceback …""#))
    }
}
