import Foundation
import Testing
@testable import PinwheelCore

/// A held status's reason code and an override survive the status file and the status commit's trailers, which is
/// all `status`, `history` and a restarted controller have.
@Suite("Admission in the status")
struct AdmissionOverrideTests {
    static let desired = String(repeating: "a", count: 40)

    static func status(reason: String? = nil, override: AdmissionOverride? = nil) -> EnvironmentStatus {
        EnvironmentStatus(environment: "production", desired: desired, result: .converged, message: "every host serves the desired slot",
                          time: "2026-11-20T12:00:00Z", active: .b, pins: ["hello-service==1.1.0"],
                          hosts: ["web-01": .init(serving: .b, slots: [:], healthy: true)], applied: desired,
                          reason: reason, override: override)
    }

    static func trailers(_ status: EnvironmentStatus) -> [(key: String, value: String)] {
        status.commitMessage.split(separator: "\n").filter { $0.hasPrefix("Pinwheel-") }.map { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        }
    }

    @Test func anOverrideRoundTripsThroughTheFileAndTheTrailers() throws {
        let override = AdmissionOverride(reason: "hotfix for INC-42", by: "Olive <olive@example.com>",
                                         overrode: [.unverifiedCommits, .windowClosed], message: "unverified commit …")
        let status = Self.status(override: override)
        #expect(try EnvironmentStatus.parse(status.yaml()) == status)
        let record = try #require(StatusRecord.parse(summary: status.summary, trailers: Self.trailers(status)))
        #expect(record.override == StatusRecord.Override(reason: "hotfix for INC-42", by: "Olive <olive@example.com>",
                                                         overrode: ["unverifiedCommits", "windowClosed"]))
        #expect(record.reason == nil)
    }

    @Test func aHeldStatusCarriesItsCode() throws {
        var status = Self.status(reason: AdmissionReason.windowClosed.rawValue)
        status.result = .waiting
        #expect(try EnvironmentStatus.parse(status.yaml()).reason == "windowClosed")
        #expect(StatusRecord.parse(summary: status.summary, trailers: Self.trailers(status))?.reason == "windowClosed")
        #expect(StatusRecord.parse(summary: status.summary, trailers: Self.trailers(status))?.override == nil)
    }

    @Test func statusesWrittenBeforeReadAsHavingNeither() throws {
        let old = try EnvironmentStatus.parse("""
            environment: production
            desired: \(Self.desired)
            result: waiting
            message: frozen
            time: 2026-11-20T12:00:00Z

            """)
        #expect(old.reason == nil && old.override == nil)
    }
}
