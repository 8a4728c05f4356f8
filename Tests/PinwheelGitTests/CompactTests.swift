import Foundation
import Testing
@testable import PinwheelGit

/// A cache clone that fetches for months: every fetch that brings something writes a pack; compacting merges them.
@Suite struct CompactTests {
    @Test func compactingMergesThePacksAndKeepsEveryCommitReadable() async throws {
        let box = try Sandbox()
        let (work, _, url) = try box.workAndRemote()
        let cache = try await Repository.clone(from: url, to: box.path("cache.git"), bare: true)
        var commits: [String] = []
        for index in 0..<6 {
            commits.append(try box.commit(["apps/web/deploy.yaml": "replicas: \(index)\n"], message: "Scale \(index)", in: work))
            try box.git(["push", "-q", "origin", "main"], in: work)
            try await cache.fetch()
        }
        // A commit of the cache's own (a status), loose until compacted.
        let status = try cache.commit(changes: [.write("status.yaml", Data("ok\n".utf8))], onBranch: "pinwheel/status",
                                      message: "status", author: ada)
        #expect(cache.packFileCount() >= 6, "each fetch wrote a pack")

        let merged = try cache.compactObjects()
        #expect(merged >= 6)
        #expect(cache.packFileCount() == 1)
        let objects = try FileManager.default.contentsOfDirectory(atPath: box.path("cache.git/objects"))
        #expect(objects.sorted() == ["info", "pack"], "no loose object is left: \(objects)")
        // Read through the same handle (its object database reopened) and through a fresh one.
        for repository in [cache, try Repository(openingAt: box.path("cache.git"))] {
            for (index, commit) in commits.enumerated() {
                let id = try #require(ObjectID(hex: commit))
                #expect(try repository.readFile("apps/web/deploy.yaml", at: id) == Data("replicas: \(index)\n".utf8))
            }
            #expect(try repository.readFile("status.yaml", at: status) == Data("ok\n".utf8))
        }

        // The cache goes on fetching and compacting.
        let next = try box.commit(["apps/web/deploy.yaml": "replicas: 9\n"], message: "Scale 9", in: work)
        try box.git(["push", "-q", "origin", "main"], in: work)
        #expect(try await cache.fetch().changed)
        #expect(try cache.resolve("origin/main").hex == next)
        try cache.compactObjects()
        #expect(cache.packFileCount() == 1)
        #expect(try cache.readFile("apps/web/deploy.yaml", at: cache.resolve("origin/main")) == Data("replicas: 9\n".utf8))
    }

    /// The remote's URL is used as written: an `insteadOf` in the config (the operator's global git config, say)
    /// does not redirect where the cache fetches from.
    @Test func fetchUsesTheRemoteURLAsWritten() async throws {
        let box = try Sandbox()
        let (work, _, url) = try box.workAndRemote()
        let cache = try await Repository.clone(from: url, to: box.path("cache.git"), bare: true)
        try box.git(["config", "url.file:///nowhere/.insteadOf", url], in: box.path("cache.git"))
        let next = try box.commit(["README.md": "next\n"], message: "next", in: work)
        try box.git(["push", "-q", "origin", "main"], in: work)
        #expect(try cache.remoteURL("origin") == url)
        #expect(try await cache.fetch().changed)
        #expect(try cache.resolve("origin/main").hex == next)
    }
}
