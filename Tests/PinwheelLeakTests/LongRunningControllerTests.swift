import Foundation
import Logging
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// What a controller that runs for months does thousands of times, driven fast in this process (a test target of its
/// own, so no other test allocates meanwhile): polls where nothing changed, and new commits that are loaded, admitted,
/// rolled out to a host that cannot be reached, and recorded in status commits that are pushed. Open descriptors must
/// not grow, and the allocator's bytes in use must grow by less than a small bound per poll and per commit.
@Suite("A long-running controller", .serialized)
struct LongRunningControllerTests {
    @Test func pollsAndCommitsKeepDescriptorsAndTheHeapFlat() async throws {
        let world = try await World()
        // Warm-up: caches, the first statuses, thread pools and the allocator's arenas reach their size.
        for _ in 0..<20 { try await world.commit() }
        for _ in 0..<50 { await world.poll() }

        // Polls where nothing changed: one fetch each.
        let polls = 400
        let beforePolls = Sample.now(world)
        for _ in 0..<polls { await world.poll() }
        let afterPolls = Sample.now(world)

        // New commits, each with a few polls after it.
        let commits = 60
        for _ in 0..<commits {
            try await world.commit()
            for _ in 0..<4 { await world.poll() }
        }
        let afterCommits = Sample.now(world)

        let status = try #require(try world.config.status(of: "far"), "the controller committed statuses")
        #expect(status.desired == (try await world.config.head()), "the last commit was seen and recorded")
        let perPoll = (afterPolls.heap - beforePolls.heap) / polls
        let perCommit = (afterCommits.heap - afterPolls.heap) / commits
        print("long-running controller: heap in use \(beforePolls.heap) → \(afterPolls.heap) bytes over \(polls) polls "
              + "(\(perPoll) a poll) → \(afterCommits.heap) over \(commits) commits (\(perCommit) a commit); descriptors "
              + "\(beforePolls.descriptors) → \(afterPolls.descriptors) → \(afterCommits.descriptors), the cache's packs "
              + "\(afterCommits.packs)")
        #expect(beforePolls.heap > 0, "the allocator reports its statistics")
        #expect(perPoll < 256, "a poll where nothing changed keeps nothing: \(beforePolls.heap) → \(afterPolls.heap) bytes")
        // Per commit: about a kilobyte, the test's own bookkeeping (Swift Testing's and Subprocess's tables).
        #expect(perCommit < 4 << 10, "each commit kept \(perCommit) bytes: \(afterPolls.heap) → \(afterCommits.heap)")
        #expect(afterPolls.descriptors <= beforePolls.descriptors, "polls opened descriptors they kept")
        #expect(afterCommits.descriptors <= beforePolls.descriptors + 1, "commits opened descriptors they kept")
        #expect(afterCommits.packs <= WatchedRepository.packLimit + 1, "the cache's pack files are merged: \(afterCommits.packs) open")
    }

    /// What leaks move: the allocator's bytes in use, open descriptors other than the cache's pack files, and those.
    struct Sample {
        var heap: Int
        var descriptors: Int
        var packs: Int

        static func now(_ world: World) -> Sample {
            let open = HeapStatistics.openDescriptorTargets()
            let packs = open.filter { $0.hasPrefix(world.cache) && $0.hasSuffix(".pack") }.count
            return Sample(heap: HeapStatistics.bytesInUse(), descriptors: open.count - packs, packs: packs)
        }
    }

    /// A config repository with one environment whose only host cannot be reached (nothing listens on its port), so
    /// each new commit takes the whole path to the hosts and back into a status commit without a fleet.
    struct World {
        let folder: TemporaryFolder
        let config: ConfigRemote
        let controller: Controller
        let cache: String

        init() async throws {
            folder = try TemporaryFolder("long-running")
            try await Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", folder.path("id_ed25519")])
            try folder.write("known_hosts", "")
            let port = try FreePort.next()
            try folder.write("work/Policies/local.yaml", "rollout: {canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}\n")
            try folder.write("work/Environments/far/A.txt", "hello-service==1.0.0\n")
            try folder.write("work/Environments/far/B.txt", "hello-service==1.0.0\n")
            try folder.write("work/Environments/far/environment.yaml", """
                app: hello
                python: /usr/bin/python3
                source:
                  index: http://127.0.0.1:9/simple/
                active: A
                slots: {A: A.txt, B: B.txt}
                programs:
                  web:
                    command: hello-service --port {port}
                    port: {A: 8100, B: 8200}
                policy: local
                defaults:
                  user: root
                  identity: \(folder.path("id_ed25519"))
                  knownHosts: \(folder.path("known_hosts"))
                  root: /srv/pinwheel
                hosts:
                  - {name: far-01, address: 127.0.0.1, port: \(port)}

                """)
            config = try await ConfigRemote(from: folder.path("work"), in: folder.path)
            cache = folder.path("cache")
            let configuration = ControllerConfiguration(
                repository: config.remote, interval: .milliseconds(10), driftInterval: .seconds(3600),
                cacheDirectory: cache, controlDirectory: folder.path("cm"), allowedIdentityFolders: [folder.path])
            controller = Controller(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }

        func poll() async {
            await controller.poll()
            await controller.settle()
        }

        /// Pins a new version in the idle slot and pushes it, then polls: the controller loads it, tries the host
        /// and commits a status.
        func commit() async throws {
            let count = try await config.inWork(["rev-list", "--count", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
            try folder.write("work/Environments/far/B.txt", "hello-service==1.0.\(count)\n")
            try await config.commitAndPush("far: 1.0.\(count)")
            await poll()
        }
    }
}

extension TemporaryFolder {
    func write(_ relative: String, _ text: String) throws {
        let url = self.url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}
