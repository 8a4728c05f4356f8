import Foundation
import Testing
@testable import PinwheelGit

@Suite struct RepositoryReadTests {
    @Test func createOpenAndReadAtCommit() throws {
        let box = try Sandbox()
        let work = box.path("work")
        _ = try Repository.create(at: work)
        let first = try box.commit(["README.md": "hello\n", "apps/web/deploy.yaml": "replicas: 1\n",
                                    "apps/web/config/env": "A=1\n"], message: "Initial", in: work)
        let second = try box.commit(["apps/web/deploy.yaml": "replicas: 2\n"], message: "Scale web", in: work)

        let repo = try Repository(openingAt: work)
        #expect(!repo.isBare)
        #expect(try repo.resolve("HEAD").hex == second)
        #expect(try repo.resolve("main").hex == second)
        #expect(try repo.resolve("HEAD~1").hex == first)
        #expect(try repo.resolve(String(first.prefix(7))).hex == first)
        #expect(try repo.resolve(first).short == String(first.prefix(7)))

        let c1 = try #require(ObjectID(hex: first)), c2 = try #require(ObjectID(hex: second))
        #expect(try repo.readFile("apps/web/deploy.yaml", at: c1) == Data("replicas: 1\n".utf8))
        #expect(try repo.readFile("/apps/web/deploy.yaml", at: c2) == Data("replicas: 2\n".utf8))
        #expect(try repo.readFile("apps/web/missing.yaml", at: c2) == nil)
        #expect(try repo.readFile("nope/deeper/x", at: c2) == nil)
        #expect(try repo.readFile("apps/web", at: c2) == nil) // a directory is not a file

        let root = try #require(try repo.listDirectory("", at: c2))
        #expect(root.map(\.name) == ["README.md", "apps"])
        #expect(root.map(\.kind) == [.file, .directory])
        let web = try #require(try repo.listDirectory("apps/web", at: c2))
        #expect(web.map(\.name) == ["config", "deploy.yaml"])
        #expect(web.first?.kind == .directory)
        #expect(try repo.listDirectory("apps/none", at: c2) == nil)
        #expect(try repo.listDirectory("README.md", at: c2) == nil)

        // treeID matches git's own ids and changes only when content does.
        let gitTree = try box.git(["rev-parse", "\(second):apps/web"], in: work)
        #expect(try repo.treeID(of: "apps/web", at: c2)?.hex == gitTree)
        #expect(try repo.treeID(of: "apps/web/config", at: c1) == repo.treeID(of: "apps/web/config", at: c2))
        #expect(try repo.treeID(of: "apps/web", at: c1) != repo.treeID(of: "apps/web", at: c2))
        #expect(try repo.treeID(of: "", at: c2)?.hex == box.git(["rev-parse", "\(second)^{tree}"], in: work))
        #expect(try repo.treeID(of: "absent", at: c2) == nil)

        let info = try repo.commitInfo(c2)
        #expect(info.parents == [c1])
        #expect(info.summary == "Scale web")
        #expect(try repo.branches() == ["main"])
    }

    @Test func badRevisionIsAClearError() throws {
        let box = try Sandbox()
        let work = box.path("work")
        _ = try Repository.create(at: work)
        let repo = try Repository(openingAt: work)
        // Unborn HEAD.
        #expect { try repo.resolve("HEAD") } throws: { ($0 as? GitError)?.code == .unborn }
        try box.commit(["a": "1"], message: "one", in: work)
        let error = #expect(throws: GitError.self) { try repo.resolve("no-such-branch") }
        #expect(error?.code == .invalidRevision)
        #expect(error?.description.contains("no-such-branch") == true)
        #expect(error?.message.isEmpty == false) // libgit2's own message
        #expect(error?.errorClass != 0)
        #expect { try repo.resolve("HEAD~5") } throws: { ($0 as? GitError)?.code == .invalidRevision }
        #expect { try repo.resolve("main:::") } throws: { ($0 as? GitError)?.code == .invalidRevision }
    }

    @Test func openingANonRepositoryFails() throws {
        let box = try Sandbox()
        let plain = box.path("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        let error = #expect(throws: GitError.self) { try Repository(openingAt: plain) }
        #expect(error?.code == .notFound)
        #expect(error?.description.contains(plain) == true)
        #expect(error?.description.contains("not a git repository") == true)
        #expect(throws: GitError.self) { try Repository(openingAt: box.path("does-not-exist")) }
    }

    @Test func bareCreateAndObjectIDs() throws {
        let box = try Sandbox()
        let repo = try Repository.create(at: box.path("cache.git"), bare: true)
        #expect(repo.isBare)
        #expect(try box.git(["rev-parse", "--is-bare-repository"], in: box.path("cache.git")) == "true")
        #expect(ObjectID(hex: "xyz") == nil)
        let id = try #require(ObjectID(hex: String(repeating: "AB", count: 20)))
        #expect(id.hex == String(repeating: "ab", count: 20))
        #expect(id.short == "abababa")
    }
}
