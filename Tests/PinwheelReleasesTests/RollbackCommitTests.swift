import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

@Suite struct RollbackCommitTests {
    let author = ConfigRepository.author

    func release(_ environment: String, _ package: String, in config: ConfigRepository) throws -> ObjectID {
        try ReleaseCommit(environment: environment, changes: [try ReleasePlan.Change.parse(package)])
            .commit(in: config.repository, author: author, committer: author).commit
    }

    @Test func revertsTheEnvironmentsNewestChange() throws {
        let config = try ConfigRepository()
        let production = try release("production", "hello-service==1.1.0", in: config)
        // A later change to another environment (staging, whose active slot is B) must not be the one reverted.
        let staging = try release("staging", "hello-service==2.0.0", in: config)
        let result = try RollbackCommit(environment: "production").commit(in: config.repository, author: author, committer: author)
        #expect(result.reverted.id == production)
        #expect(result.branch == "main")
        #expect(try config.tip == result.commit)
        #expect(result.diff.contains("active: B → A"))
        #expect(result.workTreeError == nil)
        let info = try config.repository.commitInfo(result.commit)
        #expect(info.parents == [staging])
        #expect(info.message == "Revert \"production: release hello-service 1.1.0\"\n\nThis reverts commit \(production.hex).\n")
        #expect(try config.text("Environments/production/environment.yaml", at: result.commit)?.contains("active: A") == true)
        #expect(try config.text("Environments/staging/environment.yaml", at: result.commit)?.contains("active: A") == true)
        #expect(try config.repository.uncommittedChanges(in: ["Environments"]) == [])
        #expect(try config.repository.referenceNames(matching: "refs/pinwheel/*") == [])
    }

    @Test func aNamedCommit() throws {
        let config = try ConfigRepository()
        let staging = try release("staging", "hello-service==2.0.0", in: config)
        _ = try release("production", "hello-service==1.1.0", in: config)
        let result = try RollbackCommit(environment: "staging", target: String(staging.hex.prefix(8)))
            .commit(in: config.repository, author: author, committer: author)
        #expect(result.reverted.id == staging)
        #expect(try config.text("Environments/production/environment.yaml", at: result.commit)?.contains("active: B") == true)
        #expect(try config.text("Environments/staging/environment.yaml", at: result.commit)?.contains("active: B") == true)
    }

    @Test func aConflictingRevertCommitsNothing() throws {
        let config = try ConfigRepository()
        let production = try release("production", "hello-service==1.1.0", in: config)
        // A later hand edit of the same line.
        let head = try config.commit(["Environments/production/B.txt": "hello-service==1.2.0\n"], message: "production: 1.2.0 by hand")
        let error = #expect(throws: OperationError.self) {
            try RollbackCommit(environment: "production", target: production.hex)
                .commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("conflicts") == true)
        #expect(error?.message.contains("Environments/production/") == true)
        #expect(try config.tip == head)
        #expect(try config.repository.referenceNames(matching: "refs/pinwheel/*") == [])
        #expect(try config.repository.uncommittedChanges(in: ["Environments"]) == [])
    }

    @Test func aCommitNotOnTheBranchIsAUsageError() throws {
        let config = try ConfigRepository()
        let before = try config.tip
        let side = try ReleaseCommit(environment: "production", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")],
                                     newBranch: "side").commit(in: config.repository, author: author, committer: author).commit
        let error = #expect(throws: OperationError.self) {
            try RollbackCommit(environment: "production", target: side.hex).commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .usage)
        #expect(try config.tip == before)
    }

    @Test func nothingToRollBack() throws {
        let config = try ConfigRepository()
        let error = #expect(throws: OperationError.self) {
            try RollbackCommit(environment: "nowhere").commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .notFound)
    }
}
