import Foundation
import Testing
@testable import PinwheelGit

/// Writers racing on one branch: every rejection a lost race can produce — the non-fast-forward the server sees before
/// it writes, and `failed to update ref` when another push moved the ref between its check and its write — reads as
/// ``GitError/Code/nonFastForward``, which the controller's publisher answers by fetching, rebuilding on the new tip
/// and pushing again, so no status is lost.
@Suite struct PushRaceTests {
    @Test func everyWayOfLosingARaceOnTheRefIsARetryableRejection() {
        for answer in [
            "non-fast-forward", "fetch first", "stale info",
            "failed to update ref",
            "cannot lock ref 'refs/heads/pinwheel/status': is at 3f2a1c9 but expected 8b0d4e2",
            "failed to lock", "incorrect old value provided",
            "old reference value does not match", "failed to write reference",
        ] {
            #expect(Repository.looksNonFastForward(answer), "\(answer)")
        }
        for answer in ["pre-receive hook declined", "deny updating a hidden ref", "permission denied", "funny refname"] {
            #expect(!Repository.looksNonFastForward(answer), "\(answer)")
        }
    }

    @Test(.enabled(if: TestSSHServer.available, "needs /usr/sbin/sshd (Debian: openssh-server)"))
    func writersRacingOverSSHAllLandByRetryingOnTheNewTip() async throws {
        let box = try Sandbox()
        let (_, remote, _) = try box.workAndRemote()
        let server = try TestSSHServer(box: box)
        let url = server.url(remote)
        let knownHosts = box.path("known_hosts")
        try "[127.0.0.1]:\(server.port) \(server.hostPublicKey)\n".write(toFile: knownHosts, atomically: false, encoding: .utf8)
        let options = RemoteOptions(credentials: .sshKey(user: TestSSHServer.userName, privateKey: server.clientKey,
                                                         publicKey: server.clientKey + ".pub"),
                                    knownHosts: knownHosts, deadline: .seconds(20))
        let writers = 5
        var caches: [Repository] = []
        for index in 0..<writers {
            caches.append(try await Repository.clone(from: url, to: box.path("cache-\(index).git"), bare: true, options: options))
        }
        let rejections = try await withThrowingTaskGroup(of: [GitError].self) { group in
            for (index, cache) in caches.enumerated() {
                group.addTask {
                    var rejected: [GitError] = []
                    for _ in 0..<20 {
                        let tip = try cache.resolve("origin/main")
                        try cache.setReference("refs/heads/main", to: tip, logMessage: "test: start from origin/main")
                        _ = try cache.commit(changes: [.write("status-\(index)", Data("\(index)\n".utf8))], onBranch: "main",
                                             message: "status \(index)", author: ada)
                        do {
                            try await cache.push(branch: "main", options: options)
                            return rejected
                        } catch let error as GitError {
                            rejected.append(error)
                            try await Task.sleep(for: .milliseconds(Int.random(in: 10...80)))
                            _ = try await cache.fetch(remote: "origin", options: options)
                        }
                    }
                    return rejected
                }
            }
            var all: [GitError] = []
            for try await rejected in group { all += rejected }
            return all
        }
        #expect(rejections.allSatisfy { $0.code == .nonFastForward }, "\(rejections.map(\.description))")
        for index in 0..<writers {
            #expect((try? box.git(["show", "main:status-\(index)"], in: remote)) == "\(index)", "writer \(index)'s commit landed")
        }
    }
}
