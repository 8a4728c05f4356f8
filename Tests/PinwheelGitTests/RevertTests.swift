import Foundation
import Testing
@testable import PinwheelGit

@Suite struct RevertTests {
    @Test func cleanRevertProducesTheInverseChange() throws {
        let box = try Sandbox()
        let (_, remote, _) = try box.workAndRemote()
        let repo = try Repository(openingAt: remote)
        let change = try repo.commit(changes: [.write("apps/web/deploy.yaml", Data("replicas: 5\n".utf8)),
                                               .write("apps/new.yaml", Data("n\n".utf8))],
                                     onBranch: "main", message: "Scale up", author: ada)
        let later = try repo.commit(changes: [.write("README.md", Data("other\n".utf8))], onBranch: "main",
                                    message: "Unrelated", author: ada)
        let message = "Revert \"Scale up\"\n\nThis reverts commit \(change.hex).\n"
        let revert = try repo.revert(change, onBranch: "main", message: message, author: ada)
        #expect(try repo.branchTip("main") == revert)
        let info = try repo.commitInfo(revert)
        #expect(info.parents == [later])
        #expect(info.message == message)
        #expect(try repo.readFile("apps/web/deploy.yaml", at: revert) == Data("replicas: 1\n".utf8))
        #expect(try repo.readFile("apps/new.yaml", at: revert) == nil)
        #expect(try repo.readFile("README.md", at: revert) == Data("other\n".utf8))
        #expect(try box.git(["diff", "--stat", "\(change.hex)~1", revert.hex, "--", "apps"], in: remote).isEmpty)
    }

    @Test func conflictingRevertThrowsAndLeavesTheBranch() throws {
        let box = try Sandbox()
        let (_, remote, _) = try box.workAndRemote()
        let repo = try Repository(openingAt: remote)
        let change = try repo.commit(changes: [.write("apps/web/deploy.yaml", Data("replicas: 5\n".utf8))],
                                     onBranch: "main", message: "Scale up", author: ada)
        let later = try repo.commit(changes: [.write("apps/web/deploy.yaml", Data("replicas: 9\n".utf8))],
                                    onBranch: "main", message: "Scale more", author: ada)
        let error = #expect(throws: GitError.self) {
            try repo.revert(change, onBranch: "main", message: "custom", author: ada)
        }
        #expect(error?.code == .conflict)
        #expect(error?.description.contains("apps/web/deploy.yaml") == true)
        #expect(try repo.branchTip("main") == later)
    }
}
