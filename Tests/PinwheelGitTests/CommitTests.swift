import Foundation
import Testing
@testable import PinwheelGit

@Suite struct CommitTests {
    @Test func commitInABareRepository() throws {
        let box = try Sandbox()
        let (_, remote, _) = try box.workAndRemote()
        let repo = try Repository(openingAt: remote)
        let before = try #require(try repo.branchTip("main"))
        let committer = Signature(name: "Pinwheel", email: "bot@example.com", date: Date(timeIntervalSince1970: 1_700_000_500))
        let id = try repo.commit(changes: [
            .write("apps/new/deep/er/config.yaml", Data("a: 1\n".utf8)),
            .write("apps/web/deploy.yaml", Data("replicas: 3\n".utf8)),
            .delete("README.md"),
            .delete("not-there"),
        ], onBranch: "main", message: "Bot change\n\nDetails.", author: ada, committer: committer, expectedParent: before)

        #expect(try repo.branchTip("main") == id)
        #expect(try box.git(["rev-parse", "main"], in: remote) == id.hex)
        #expect(try box.git(["ls-tree", "-r", "--name-only", "main"], in: remote)
            .split(separator: "\n") == ["apps/new/deep/er/config.yaml", "apps/web/deploy.yaml"])
        #expect(try box.git(["show", "main:apps/web/deploy.yaml"], in: remote) == "replicas: 3")
        #expect(try box.git(["log", "-1", "--format=%an <%ae>|%cn|%at|%ct|%P|%s", "main"], in: remote)
            == "Ada Author <ada@example.com>|Pinwheel|1700000000|1700000500|\(before.hex)|Bot change")
        #expect(try box.git(["log", "-1", "--format=%ad", "--date=iso", "main"], in: remote).hasSuffix("+0100"))
        #expect(try box.git(["fsck", "--strict"], in: remote).isEmpty)
    }

    @Test func newBranchFromNothingAndExpectedParentChecks() throws {
        let box = try Sandbox()
        let path = box.path("empty.git")
        let repo = try Repository.create(at: path, bare: true)
        let first = try repo.commit(changes: [.write("a/b.txt", Data("x".utf8))], onBranch: "deploy",
                                    message: "orphan", author: ada, expectedParent: .some(nil))
        #expect(try repo.commitInfo(first).parents.isEmpty)
        #expect(try box.git(["ls-tree", "-r", "--name-only", "deploy"], in: path) == "a/b.txt")
        #expect(try repo.branches() == ["deploy"])

        // Expecting no branch when it exists, or a stale parent: refused, branch unchanged.
        #expect { try repo.commit(changes: [], onBranch: "deploy", message: "m", author: ada, expectedParent: .some(nil)) }
            throws: { ($0 as? GitError)?.code == .referenceChanged }
        let second = try repo.commit(changes: [.delete("a/b.txt")], onBranch: "deploy", message: "second", author: ada)
        #expect { try repo.commit(changes: [], onBranch: "deploy", message: "m", author: ada, expectedParent: first) }
            throws: { ($0 as? GitError)?.code == .referenceChanged }
        #expect(try repo.branchTip("deploy") == second)
        // Deleting the last file leaves an empty tree.
        #expect(try repo.listDirectory("", at: second) == [])
        // Invalid paths are rejected.
        #expect { try repo.commit(changes: [.write("../x", Data())], onBranch: "deploy", message: "m", author: ada) }
            throws: { ($0 as? GitError)?.code == .invalidArgument }
    }

    @Test func refsAndRemotesHelpers() throws {
        let box = try Sandbox()
        let (work, _, url) = try box.workAndRemote()
        let repo = try Repository(openingAt: work)
        #expect(try repo.remoteURL("origin") == url)
        #expect(try repo.remoteURL("nope") == nil)
        try repo.setRemote("mirror", url: "file:///tmp/x.git")
        try repo.setRemote("mirror", url: "file:///tmp/y.git")
        #expect(try box.git(["remote", "get-url", "mirror"], in: work) == "file:///tmp/y.git")
        let head = try repo.resolve("HEAD")
        try repo.setReference("refs/heads/copy", to: head)
        #expect(try repo.branches() == ["copy", "main"])
        #expect { try repo.setReference("refs/heads/copy", to: head, expected: ObjectID(hex: String(repeating: "1", count: 40))!) }
            throws: { ($0 as? GitError)?.code == .referenceChanged }
        try repo.deleteReference("refs/heads/copy")
        #expect(try repo.branchTip("copy") == nil)
    }
}
