import Foundation
import Testing
@testable import PinwheelCore

/// A rollout a newer commit stopped is recorded as `superseded`: by which commit, where it stopped, which hosts it
/// switched; in the status file (read back, older files still read) and the status commit's trailers `history` reads.
@Suite("Superseded status")
struct SupersededStatusTests {
    static let desired = String(repeating: "b", count: 40)
    static let newer = String(repeating: "c", count: 40)

    func status() throws -> EnvironmentStatus {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        var status = EnvironmentStatus(environment: environment, commit: Self.desired, result: .superseded,
                                       message: "superseded by ccccccc", time: "2026-11-20T12:00:00Z", observations: [:], errors: [:])
        status.superseded = .init(by: Self.newer, stage: "pause", switched: ["web-01"], untouched: ["web-02", "web-03"])
        return status
    }

    @Test func theStatusFileSaysByWhichCommitWhereItStoppedAndWhatItSwitched() throws {
        let status = try status()
        let yaml = try status.yaml()
        #expect(yaml.contains("result: superseded"))
        let parsed = try EnvironmentStatus.parse(yaml)
        #expect(parsed == status)
        #expect(parsed.superseded?.by == Self.newer)
        #expect(parsed.superseded?.switched == ["web-01"])
        #expect(parsed.superseded?.untouched == ["web-02", "web-03"])
        #expect(parsed.superseded?.stage == "pause")
        // The hosts were reconciled to it as far as it went: it counts as applied.
        #expect(parsed.lastApplied == Self.desired)
    }

    @Test func theTrailersReadBackTheNewerCommitAndTheSwitchedHosts() throws {
        let status = try status()
        #expect(status.commitMessage.contains("Pinwheel-Result: superseded\n"))
        let trailers = status.commitMessage.split(separator: "\n").filter { $0.hasPrefix("Pinwheel-") }.map { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (key: String(parts[0]), value: String(parts[1]))
        }
        let record = try #require(StatusRecord.parse(summary: status.summary, trailers: trailers))
        #expect(record.result == "superseded")
        #expect(record.supersededBy == Self.newer)
        #expect(record.switched == ["web-01"])
    }

    @Test func otherStatusesHaveNoSupersessionAndOlderFilesStillRead() throws {
        let old = try EnvironmentStatus.parse("""
            environment: prod
            desired: \(Self.desired)
            result: converged
            message: every host serves the desired slot
            time: 2026-11-20T12:00:00Z

            """)
        #expect(old.superseded == nil)
        #expect(!old.commitMessage.contains("Pinwheel-Superseded-By"))
        let record = StatusRecord.parse(summary: old.summary, trailers: [("Pinwheel-Environment", "prod"), ("Pinwheel-Desired", Self.desired)])
        #expect(record?.supersededBy == nil && record?.switched == nil)
    }
}
