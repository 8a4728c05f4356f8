import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

/// `promote` reads what the source environment's statuses say of the pins it copies, before committing: the example
/// config's staging runs hello-service 1.1.0 in slot B with /usr/bin/python3, production 1.0.0 in slot A.
@Suite struct PromoteCommitTests {
    let author = ConfigRepository.author
    let promotion = PromoteCommit(environment: "production", from: "staging")
    let staged = ["hello-service==1.1.0"]
    let python = "/usr/bin/python3"
    static let noon = Date(timeIntervalSince1970: 1_795_000_000)

    func stamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    @Test func withoutStatusesItCommitsAndWarnsThatNothingVouchesForThePins() throws {
        let config = try ConfigRepository()
        let result = try promotion.commit(in: config.repository, author: author, committer: author, now: Self.noon)
        #expect(try config.tip == result.commit)
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("staging has no converged, healthy status with these pins") == true,
                "\(result.warnings)")
        #expect(result.warnings.first?.contains("there is no pinwheel/status branch (nor origin/pinwheel/status); fetch it") == true,
                "\(result.warnings)")
    }

    @Test func pinsTheSourceHaltedOnAreRefusedUntilALaterRunConverges() throws {
        let config = try ConfigRepository()
        let before = try config.tip
        try config.recordStatus(environment: "staging", desired: before, result: .converged, healthy: true, date: Self.noon,
                                time: stamp(Self.noon.addingTimeInterval(-3600)), pins: staged, python: python)
        try config.recordStatus(environment: "staging", desired: before, result: .halted, healthy: false, date: Self.noon,
                                time: stamp(Self.noon.addingTimeInterval(-600)), pins: staged, python: python)
        let error = #expect(throws: OperationError.self) {
            try promotion.commit(in: config.repository, author: author, committer: author, now: Self.noon)
        }
        #expect(error?.code == .refused)
        #expect(error?.description.contains("staging halted on these pins (hello-service==1.1.0 (python /usr/bin/python3))") == true,
                "\(String(describing: error))")
        #expect(try config.tip == before, "nothing committed")

        // Another interpreter's halt is about other pins: no refusal, but nothing vouches for these either.
        let other = try ConfigRepository()
        try other.recordStatus(environment: "staging", desired: try other.tip, result: .halted, healthy: false, date: Self.noon,
                               time: stamp(Self.noon), pins: staged, python: "/usr/bin/python3.12")
        let committed = try promotion.commit(in: other.repository, author: author, committer: author, now: Self.noon)
        #expect(committed.warnings.first?.contains("no converged, healthy status") == true, "\(committed.warnings)")

        // Staging ran them again, converged: promotable, no warning without a promotion policy.
        try config.recordStatus(environment: "staging", desired: before, result: .converged, healthy: true, date: Self.noon,
                                time: stamp(Self.noon.addingTimeInterval(-60)), pins: staged, python: python)
        let result = try promotion.commit(in: config.repository, author: author, committer: author, now: Self.noon)
        #expect(result.warnings == [])
    }

    @Test func underAPromotionPolicyItSaysWhatTheControllerWillWaitFor() throws {
        let config = try ConfigRepository()
        let policy = try #require(try config.text("Policies/production.yaml", at: config.tip))
        try config.commit(["Policies/production.yaml": policy + "promotion: {from: staging, soak: 30m}\n"],
                          message: "production: promote from staging after 30m\n")
        try config.recordStatus(environment: "staging", desired: try config.tip, result: .converged, healthy: true,
                                date: Self.noon, time: stamp(Self.noon.addingTimeInterval(-600)), pins: staged, python: python)

        let soaking = try promotion.commit(in: config.repository, author: author, committer: author, now: Self.noon)
        let warning = try #require(soaking.warnings.first)
        #expect(warning.hasPrefix("production's controller will wait before applying this (`promotion: {from: staging, soak: 30m}`): "
                                  + "soaking in staging"), "\(warning)")
        #expect(warning.contains("promotes at \(stamp(Self.noon.addingTimeInterval(1200)))"), "\(warning)")

        // Once the soak has passed, the same promotion says nothing more.
        let fresh = try ConfigRepository()
        try fresh.commit(["Policies/production.yaml": policy + "promotion: {from: staging, soak: 30m}\n"], message: "gate\n")
        try fresh.recordStatus(environment: "staging", desired: try fresh.tip, result: .converged, healthy: true,
                               date: Self.noon, time: stamp(Self.noon.addingTimeInterval(-3600)), pins: staged, python: python)
        #expect(try promotion.commit(in: fresh.repository, author: author, committer: author, now: Self.noon).warnings == [])
    }
}
