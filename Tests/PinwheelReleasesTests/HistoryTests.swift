import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

@Suite struct HistoryTests {
    let author = ConfigRepository.author

    @Test func listsChangesNewestFirstWithWhatWasApplied() throws {
        let config = try ConfigRepository()
        let initial = try config.tip
        let release = try ReleaseCommit(environment: "production", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")])
            .commit(in: config.repository, author: author, committer: author).commit
        _ = try ReleaseCommit(environment: "staging", changes: [try ReleasePlan.Change.parse("hello-service==2.0.0")])
            .commit(in: config.repository, author: author, committer: author)
        let revert = try RollbackCommit(environment: "production").commit(in: config.repository, author: author, committer: author).commit
        try config.recordStatus(environment: "production", desired: release, result: .degraded, healthy: false,
                                date: Date(timeIntervalSince1970: 1_700_000_000))
        try config.recordStatus(environment: "production", desired: release, result: .converged, healthy: true,
                                date: Date(timeIntervalSince1970: 1_700_000_100))
        try config.recordStatus(environment: "staging", desired: release, result: .halted, healthy: false,
                                date: Date(timeIntervalSince1970: 1_700_000_200))

        let history = try EnvironmentHistory.read("production", in: config.repository)
        #expect(history.branch == "main")
        // The empty first commit changed nothing of production's, so it is not listed.
        #expect(history.entries.map(\.commit) == [revert.hex, release.hex, initial.hex])
        #expect(history.entries[0].changes.contains("slot B: hello-service 1.1.0 → 1.0.0"))
        #expect(history.entries[0].applied.isEmpty)
        #expect(history.entries[1].changes.contains("active: A → B"))
        #expect(history.entries[1].author.email == "rel@example.com")
        #expect(history.entries[1].applied.map(\.result) == ["converged", "degraded"])
        #expect(history.entries[1].applied.map(\.healthyHosts) == [2, 1])
        #expect(history.entries[1].applied.allSatisfy { $0.hosts == 2 })
        #expect(history.entries[2].changes.first?.hasPrefix("environment production created") == true)

        let limited = try EnvironmentHistory.read("production", in: config.repository, limit: 1)
        #expect(limited.entries.map(\.commit) == [revert.hex])
    }

    @Test func anEnvironmentWithNoHistory() throws {
        let config = try ConfigRepository()
        let history = try EnvironmentHistory.read("nowhere", in: config.repository)
        #expect(history.entries.isEmpty)
        let error = #expect(throws: OperationError.self) {
            try EnvironmentHistory.read("production", in: config.repository, revision: "no-such-branch")
        }
        #expect(error?.code == .usage)
    }

    @Test func recordedStatusIsTheNewest() throws {
        let config = try ConfigRepository()
        let none = #expect(throws: OperationError.self) { try RecordedStatus.read("production", in: config.repository) }
        #expect(none?.code == .notFound)
        let head = try config.tip
        try config.recordStatus(environment: "production", desired: head, result: .converged, healthy: true,
                                date: Date(timeIntervalSince1970: 1_700_000_000))
        try config.recordStatus(environment: "production", desired: head, result: .degraded, healthy: false,
                                date: Date(timeIntervalSince1970: 1_700_000_100))
        let recorded = try RecordedStatus.read("production", in: config.repository)
        #expect(recorded.ref == EnvironmentStatus.defaultBranch)
        #expect(recorded.status.result == .degraded)
        #expect(recorded.status.desired == head.hex)
        #expect(recorded.commit == recorded.tip)
        let staging = #expect(throws: OperationError.self) { try RecordedStatus.read("staging", in: config.repository) }
        #expect(staging?.code == .notFound)
    }
}
