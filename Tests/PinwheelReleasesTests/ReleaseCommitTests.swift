import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

@Suite struct ReleaseCommitTests {
    let author = ConfigRepository.author
    let production = "Environments/production"

    func release(_ packages: [String], branch: String? = nil, message: String? = nil) throws -> ReleaseCommit {
        ReleaseCommit(environment: "production", changes: try packages.map { try ReleasePlan.Change.parse($0) },
                      newBranch: branch, message: message)
    }

    @Test func commitsTheIdleSlotFlipsActiveAndUpdatesTheWorkTree() throws {
        let config = try ConfigRepository()
        let before = try config.tip
        let result = try release(["hello-service==1.1.0"]).commit(in: config.repository, author: author, committer: author)
        #expect(result.branch == "main")
        #expect(try config.tip == result.commit)
        #expect(result.workTreeError == nil)
        #expect(result.diff.contains("slot B: hello-service 1.0.0 → 1.1.0"))
        #expect(result.diff.contains("active: A → B"))
        let info = try config.repository.commitInfo(result.commit)
        #expect(info.parents == [before])
        #expect(info.summary == "production: release hello-service 1.1.0")
        #expect(info.author.email == "rel@example.com")
        #expect(try config.repository.changedPaths(from: before, to: result.commit)
                == ["\(production)/B.txt", "\(production)/environment.yaml"])
        let pins = try config.text("\(production)/B.txt", at: result.commit) ?? ""
        #expect(pins.contains("hello-service==1.1.0") && !pins.contains("hello-service==1.0.0"), "\(pins)")
        #expect(try config.text("\(production)/environment.yaml", at: result.commit)?.contains("active: B") == true)
        // The work tree follows the commit.
        #expect(try config.repository.uncommittedChanges(in: ["Environments"]) == [])
        #expect(try EnvironmentAtCommit.load("production", in: config.repository, at: result.commit).environment?.active == .b)
    }

    @Test func toANewBranchLeavesTheCheckedOutOneAlone() throws {
        let config = try ConfigRepository()
        let before = try config.tip
        let result = try release(["hello-service==1.1.0"], branch: "release/1.1.0", message: "ship it")
            .commit(in: config.repository, author: author, committer: author)
        #expect(result.branch == "release/1.1.0")
        #expect(try config.tip == before)
        #expect(try config.repository.branchTip("release/1.1.0") == result.commit)
        #expect(try config.repository.commitInfo(result.commit).message == "ship it\n")
        #expect(try config.repository.commitInfo(result.commit).parents == [before])

        let again = #expect(throws: OperationError.self) {
            try release(["hello-service==1.1.0"], branch: "release/1.1.0").commit(in: config.repository, author: author, committer: author)
        }
        #expect(again?.code == .usage)
    }

    @Test func refusesAPackageThatIsNotPinnedAndCommitsNothing() throws {
        let config = try ConfigRepository()
        let before = try config.tip
        let error = #expect(throws: OperationError.self) {
            try release(["flask==3.0.0"]).commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .refused)
        #expect(error?.message.contains("flask is not pinned in production's active slot A") == true)
        #expect(try config.tip == before)
    }

    @Test func refusesWhenTheWorkTreeHasChangesToThoseFiles() throws {
        let config = try ConfigRepository()
        let before = try config.tip
        try config.writeInWorkTree("\(production)/B.txt", "hello-service==9.9.9\n")
        let error = #expect(throws: OperationError.self) {
            try release(["hello-service==1.1.0"]).commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .dirtyWorkTree)
        #expect(error?.message.contains("\(production)/B.txt") == true)
        #expect(try config.tip == before)
    }

    @Test func anUnknownEnvironmentIsAUsageError() throws {
        let config = try ConfigRepository()
        let error = #expect(throws: OperationError.self) {
            try ReleaseCommit(environment: "nowhere", changes: [try ReleasePlan.Change.parse("hello-service==1.1.0")])
                .commit(in: config.repository, author: author, committer: author)
        }
        #expect(error?.code == .usage)
    }

    @Test func identityComesFromTheEnvironmentFirst() throws {
        let config = try ConfigRepository()
        let (author, committer) = try CommitIdentity.resolve(
            config.repository,
            environment: ["GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Cy"])
        #expect(author.name == "Ada" && author.email == "ada@example.com")
        #expect(committer.name == "Cy" && committer.email == "ada@example.com")
    }
}
