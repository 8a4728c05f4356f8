import Foundation
import Testing
@testable import PinwheelGit

@Suite struct NetworkTests {
    @Test func cloneAndFetchSeeNewRemoteCommits() async throws {
        let box = try Sandbox()
        let (work, _, url) = try box.workAndRemote()
        let cachePath = box.path("cache.git")
        let cache = try await Repository.clone(from: url, to: cachePath, bare: true)
        #expect(cache.isBare)
        let initial = try box.git(["rev-parse", "HEAD"], in: work)
        #expect(try cache.resolve("origin/main").hex == initial)
        #expect(try cache.remoteBranches() == ["origin/main"])

        let unchanged = try await cache.fetch()
        #expect(!unchanged.changed)

        let next = try box.commit(["apps/web/deploy.yaml": "replicas: 2\n"], message: "Scale", in: work)
        try box.git(["push", "-q", "origin", "main"], in: work)
        let result = try await cache.fetch(remote: "origin")
        #expect(result.changed)
        #expect(result.updatedReferences["refs/remotes/origin/main"] == ObjectID(hex: next))
        #expect(try cache.resolve("origin/main").hex == next)
        #expect(try cache.readFile("apps/web/deploy.yaml", at: cache.resolve("origin/main")) == Data("replicas: 2\n".utf8))

        // A non-bare clone checks out the work tree.
        let checkout = try await Repository.clone(from: url, to: box.path("checkout"))
        #expect(!checkout.isBare)
        #expect(FileManager.default.fileExists(atPath: box.path("checkout/apps/web/deploy.yaml")))
    }

    @Test func cloneErrorsCarryLibgit2Message() async throws {
        let box = try Sandbox()
        let target = box.path("clone")
        let error = await #expect(throws: GitError.self) {
            _ = try await Repository.clone(from: "file://\(box.path("missing.git"))", to: target)
        }
        #expect(error?.message.isEmpty == false)
        #expect(error?.description.contains("missing.git") == true)
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func pushFastForwardThenRejectedThenRetry() async throws {
        let box = try Sandbox()
        let (work, remote, url) = try box.workAndRemote()
        let mine = try await Repository.clone(from: url, to: box.path("mine.git"), bare: true)

        // Fast-forward push succeeds.
        let first = try mine.commit(changes: [.write("apps/web/deploy.yaml", Data("replicas: 2\n".utf8))],
                                    onBranch: "main", message: "mine 1", author: ada)
        try await mine.push(branch: "main")
        #expect(try box.git(["rev-parse", "main"], in: remote) == first.hex)
        #expect(try mine.resolve("origin/main") == first)

        // Someone else pushes; our next push is rejected as non-fast-forward.
        try box.git(["pull", "-q", "origin", "main"], in: work)
        let theirs = try box.commit(["README.md": "theirs\n"], message: "theirs", in: work)
        try box.git(["push", "-q", "origin", "main"], in: work)
        try mine.commit(changes: [.write("apps/api.yaml", Data("a\n".utf8))], onBranch: "main",
                        message: "mine 2", author: ada)
        let error = await #expect(throws: GitError.self) { try await mine.push(branch: "main") }
        #expect(error?.code == .nonFastForward)
        #expect(try box.git(["rev-parse", "main"], in: remote) == theirs)

        // Fetch, rebuild on the new tip, push again.
        try await mine.fetch()
        let tip = try mine.resolve("origin/main")
        #expect(tip.hex == theirs)
        try mine.setReference("refs/heads/main", to: tip)
        let rebuilt = try mine.commit(changes: [.write("apps/api.yaml", Data("a\n".utf8))], onBranch: "main",
                                      message: "mine 2", author: ada, expectedParent: tip)
        try await mine.push(branch: "main")
        #expect(try box.git(["rev-parse", "main"], in: remote) == rebuilt.hex)

        // Pushing to another remote branch name.
        try await mine.push(branch: "main", remoteBranch: "release")
        #expect(try box.git(["rev-parse", "release"], in: remote) == rebuilt.hex)
    }

    @Test func deadlineAbortsAHungHTTPRemote() async throws {
        try await Self.expectTimeout(scheme: "http")
    }

    @Test func deadlineAbortsAHungSSHRemote() async throws {
        try await Self.expectTimeout(scheme: "ssh")
    }

    /// The TLS stream wraps our standard stream, so a TLS handshake with a silent server is
    /// bounded by the same deadline.
    @Test func deadlineAbortsAHungHTTPSRemote() async throws {
        try await Self.expectTimeout(scheme: "https")
    }

    @Test func cancellingTheTaskAbortsAHungFetch() async throws {
        let box = try Sandbox()
        let server = try SilentServer()
        defer { server.stop() }
        let repo = try Repository.create(at: box.path("cache.git"), bare: true)
        try repo.setRemote("origin", url: "http://127.0.0.1:\(server.port)/x.git")
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await repo.fetch(options: RemoteOptions(deadline: .seconds(30))) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        // Bounded well below the 30 s deadline; generous because a loaded CI machine (tests in parallel on 2 cores)
        // can take seconds to resume the awaiting task.
        #expect(clock.now - start < .seconds(12))
        #expect(throws: GitError.self) { try result.get() }
        if case .failure(let error as GitError) = result { #expect(error.code == .cancelled) }
    }

    static func expectTimeout(scheme: String) async throws {
        let box = try Sandbox()
        let server = try SilentServer()
        defer { server.stop() }
        let repo = try Repository.create(at: box.path("cache.git"), bare: true)
        let url = scheme == "ssh" ? "ssh://git@127.0.0.1:\(server.port)/x.git" : "\(scheme)://127.0.0.1:\(server.port)/x.git"
        try repo.setRemote("origin", url: url)
        let options = RemoteOptions(credentials: .none, knownHosts: box.path("known_hosts"), deadline: .seconds(1))
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: GitError.self) { try await repo.fetch(options: options) }
        let elapsed = clock.now - start
        print("\(scheme) timeout after \(elapsed): \(error.map { String(describing: $0) } ?? "none")")
        #expect(error?.code == .timeout, "got \(String(describing: error))")
        #expect(error?.description.contains("127.0.0.1") == true)
        // Aborted near the 1 s deadline; the bound is generous because a loaded CI machine (tests in parallel on
        // 2 cores) can take seconds to resume the awaiting task. A hang would never return.
        #expect(elapsed < .seconds(12), "took \(elapsed)")
        #expect(elapsed >= .milliseconds(900))
        #expect(server.connectionCount >= 1)

        // Clone too.
        let cloneStart = clock.now
        let cloneError = await #expect(throws: GitError.self) {
            _ = try await Repository.clone(from: url, to: box.path("clone"), options: options)
        }
        #expect(cloneError?.code == .timeout)
        #expect(clock.now - cloneStart < .seconds(12))
    }
}
