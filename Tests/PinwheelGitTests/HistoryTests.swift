import Foundation
import Testing
@testable import PinwheelGit

@Suite struct HistoryTests {
    @Test func historyOfAPathListsOnlyCommitsTouchingIt() throws {
        let box = try Sandbox()
        let work = box.path("work")
        _ = try Repository.create(at: work)
        let c1 = try box.commit(["apps/web/deploy.yaml": "v1\n", "apps/api/deploy.yaml": "v1\n"], message: "Initial",
                                in: work, date: "1700000000 +0100")
        let c2 = try box.commit(["apps/api/deploy.yaml": "v2\n"], message: "API v2", in: work, date: "1700000100 +0100")
        let c3 = try box.commit(["apps/web/deploy.yaml": "v3\n"], message: "Web v3\n\nLonger body.\n\nSigned-off-by: Ada <ada@example.com>",
                                in: work, date: "1700000200 -0230")
        let c4 = try box.commit(["README.md": "x\n"], message: "Docs", in: work, date: "1700000300 +0000")

        let repo = try Repository(openingAt: work)
        let head = try repo.resolve("HEAD")
        let web = try repo.history(of: "apps/web", from: head)
        #expect(web.map(\.id.hex) == [c3, c1])
        let file = try repo.history(of: "apps/web/deploy.yaml", from: head)
        #expect(file.map(\.id.hex) == [c3, c1])
        #expect(try repo.history(of: "apps/api", from: head).map(\.id.hex) == [c2, c1])
        #expect(try repo.history(of: "README.md", from: head).map(\.id.hex) == [c4])
        #expect(try repo.history(of: "missing", from: head).isEmpty)
        #expect(try repo.history(from: head).map(\.id.hex) == [c4, c3, c2, c1])
        #expect(try repo.history(from: head, limit: 2).map(\.id.hex) == [c4, c3])
        #expect(try repo.history(of: "apps", from: head, limit: 1).map(\.id.hex) == [c3])

        let info = try #require(web.first)
        #expect(info.parents.map(\.hex) == [c2])
        #expect(info.author.name == "Ada Author")
        #expect(info.author.email == "ada@example.com")
        #expect(info.committer.name == "Cy Committer")
        #expect(info.author.date == Date(timeIntervalSince1970: 1_700_000_200))
        #expect(info.author.timeZoneOffsetMinutes == -150)
        #expect(info.summary == "Web v3")
        #expect(info.message.hasPrefix("Web v3\n\nLonger body."))
        #expect(info.trailers == [CommitInfo.Trailer(key: "Signed-off-by", value: "Ada <ada@example.com>")])
        #expect(web.last?.parents == [])
    }

    @Test func commitsOfARangeIncludeWhatAMergeBringsIn() throws {
        let box = try Sandbox()
        let work = box.path("work")
        _ = try Repository.create(at: work)
        let base = try box.commit(["a": "1\n"], message: "base", in: work, date: "1700000000 +0000")
        try box.git(["checkout", "-q", "-b", "side"], in: work)
        let side = try box.commit(["b": "1\n"], message: "side", in: work, date: "1700000100 +0000")
        try box.git(["checkout", "-q", "main"], in: work)
        let main = try box.commit(["c": "1\n"], message: "main", in: work, date: "1700000200 +0000")
        try box.git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], in: work)
        let merge = try box.git(["rev-parse", "HEAD"], in: work)

        let repo = try Repository(openingAt: work)
        let tip = try #require(ObjectID(hex: merge))
        let range = try repo.commits(from: tip, excluding: ObjectID(hex: base)).map(\.id.hex)
        #expect(range.first == merge && Set(range) == [merge, main, side] && range.count == 3)
        #expect(try repo.commits(from: tip, excluding: tip).isEmpty)
        #expect(try repo.commits(from: tip, excluding: nil).count == 4)
        #expect(throws: GitError.self) { try repo.commits(from: tip, excluding: ObjectID(hex: base), limit: 2) }
    }

    @Test func mergesCountWhenTheyChangeThePathRelativeToTheFirstParent() throws {
        let box = try Sandbox()
        let work = box.path("work")
        _ = try Repository.create(at: work)
        try box.commit(["a/file": "1\n", "b/file": "1\n"], message: "base", in: work, date: "1700000000 +0000")
        try box.git(["checkout", "-q", "-b", "side"], in: work)
        let side = try box.commit(["a/file": "2\n"], message: "side changes a", in: work, date: "1700000100 +0000")
        try box.git(["checkout", "-q", "main"], in: work)
        try box.commit(["b/file": "2\n"], message: "main changes b", in: work, date: "1700000200 +0000")
        try box.git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], in: work,
                    env: ["GIT_AUTHOR_DATE": "1700000300 +0000", "GIT_COMMITTER_DATE": "1700000300 +0000"])
        let merge = try box.git(["rev-parse", "HEAD"], in: work)
        let repo = try Repository(openingAt: work)
        let history = try repo.history(of: "a", from: repo.resolve("HEAD"))
        // The merge brought a/ in from side (differs from first parent); the side commit is listed too.
        #expect(history.map(\.id.hex).prefix(2) == [merge, side])
        #expect(history.first?.parents.count == 2)
        // b/ changed on main only: the merge did not change it relative to its first parent.
        #expect(try !repo.history(of: "b", from: repo.resolve("HEAD")).map(\.id.hex).contains(merge))
    }

    /// Builds `count` commits quickly with git fast-import; every `every`-th touches `target/file`.
    static func generate(_ count: Int, every: Int, in work: String, box: Sandbox) throws {
        var stream = ""
        for i in 1...count {
            let path = i % every == 0 || i == 1 ? "target/file" : "noise/file"
            let content = "\(i)\n"
            stream += "commit refs/heads/main\nmark :\(i)\n"
            stream += "author Ada <ada@example.com> \(1_700_000_000 + i) +0000\n"
            stream += "committer Ada <ada@example.com> \(1_700_000_000 + i) +0000\n"
            stream += "data \(("c\(i)").utf8.count)\nc\(i)\n"
            if i > 1 { stream += "from :\(i - 1)\n" }
            stream += "M 100644 inline \(path)\ndata \(content.utf8.count)\n\(content)\n"
        }
        try box.git(["fast-import", "--quiet"], in: work, input: Data(stream.utf8))
    }

    @Test func historyOnGeneratedCommits() throws {
        let box = try Sandbox()
        let work = box.path("gen.git")
        _ = try Repository.create(at: work, bare: true)
        try Self.generate(300, every: 7, in: work, box: box)
        let repo = try Repository(openingAt: work)
        let head = try repo.resolve("main")
        let history = try repo.history(of: "target/file", from: head)
        let expected = [1] + (1...300).filter { $0 % 7 == 0 }
        #expect(history.map(\.summary) == expected.reversed().map { "c\($0)" })
        #expect(try repo.history(from: head).count == 300)
        #expect(try repo.history(of: "target", from: head, limit: 5).map(\.summary) == ["c294", "c287", "c280", "c273", "c266"])
    }

    /// Correctness on a long history; its speed is measured by `Benchmarks/history`, not asserted here.
    @Test func historyOfALongRepository() throws {
        let box = try Sandbox()
        let work = box.path("big.git")
        _ = try Repository.create(at: work, bare: true)
        try Self.generate(10_000, every: 100, in: work, box: box)
        let repo = try Repository(openingAt: work)
        let head = try repo.resolve("main")
        let history = try repo.history(of: "target/file", from: head)
        #expect(history.count == 101)
        #expect(history.map(\.committer.date) == history.map(\.committer.date).sorted(by: >), "newest first")
        #expect(Set(history.map(\.id)).count == 101)
    }
}
