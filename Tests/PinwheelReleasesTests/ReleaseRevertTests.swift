import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

/// The one revert path: made and validated in memory, then the branch moved by compare-and-swap.
@Suite struct ReleaseRevertTests {
    let author = ConfigRepository.author

    @Test func aBranchThatMovedAfterTheRevertWasMadeIsNotOverwritten() throws {
        let config = try ConfigRepository()
        let release = try ReleaseCommit(environment: "production", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")])
            .commit(in: config.repository, author: author, committer: author).commit
        let tip = try config.tip
        let revert = try ReleaseRevert(environment: "production", target: try config.repository.commitInfo(release))
            .validated(in: config.repository, onto: tip, author: author, committer: author)
        #expect(try config.tip == tip, "validating moves nothing")
        #expect(revert.before.environment != nil && revert.after.environment != nil)
        #expect(try config.repository.referenceNames(matching: "refs/pinwheel/*") == [])

        // Someone commits meanwhile: the move is refused and their commit stays.
        let theirs = try config.commit(["NOTES.md": "theirs\n"], message: "notes")
        let error = #expect(throws: OperationError.self) {
            try revert.move("refs/heads/main", in: config.repository, logMessage: "test")
        }
        #expect(error?.code == .raced)
        #expect(try config.tip == theirs)

        // Made again on the new tip, it moves.
        let again = try ReleaseRevert(environment: "production", target: try config.repository.commitInfo(release))
            .validated(in: config.repository, onto: theirs, author: author, committer: author)
        try again.move("refs/heads/main", in: config.repository, logMessage: "test")
        #expect(try config.tip == again.commit)
        #expect(try config.repository.commitInfo(again.commit).parents == [theirs])
    }

    @Test func aRevertThatWouldRemoveTheEnvironmentIsRefusedBeforeAnythingMoves() throws {
        let config = try ConfigRepository()
        let production = try config.tip
        var files: [String: String] = [:]
        for name in ["environment.yaml", "known_hosts", "A.txt", "B.txt"] {
            let text: String = try #require(try config.text("Environments/production/\(name)", at: production))
            files["Environments/attic/\(name)"] = text
        }
        let created = try config.commit(files, message: "attic: new")
        #expect(try EnvironmentAtCommit.load("attic", in: config.repository, at: created).environment != nil, "a valid environment")
        let error = #expect(throws: OperationError.self) {
            try ReleaseRevert(environment: "attic", target: try config.repository.commitInfo(created))
                .validated(in: config.repository, onto: created, author: author, committer: author)
        }
        #expect(error?.code == .invalid)
        #expect(try config.tip == created)
        #expect(try config.repository.referenceNames(matching: "refs/pinwheel/*") == [])
    }
}
