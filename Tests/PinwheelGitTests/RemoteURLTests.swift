import Foundation
import Testing
@testable import PinwheelGit

extension Tag {
    /// Hostile cases: what an attacker (a pull request, a host, a network) tries, and that it does not work.
    @Tag static var security: Self
}

/// Credentials in remote URLs: redacted wherever an error shows them, never sent in clear to another machine.
@Suite("Remote URL credentials")
struct RemoteURLTests {
    @Test func userinfoIsRedactedInEveryURLOfAMessage() {
        #expect(RemoteURL.redacted("https://x-access-token:ghp_SECRET@github.com/o/r.git")
            == "https://***@github.com/o/r.git")
        #expect(RemoteURL.redacted("fetch from origin (https://bob:pw@h/r.git): failed; also http://t0k3n@10.0.0.1:8080/x")
            == "fetch from origin (https://***@h/r.git): failed; also http://***@10.0.0.1:8080/x")
        // A password with an `@` in it: the host starts after the last one before the path.
        #expect(RemoteURL.redacted("https://u:p@ss@h.example/r") == "https://***@h.example/r")
    }

    @Test func urlsWithoutCredentialsAreLeftAlone() {
        for text in ["https://github.com/o/r.git", "git@github.com:o/r.git", "ssh://git@h/r.git is ssh", "file:///srv/repo.git",
                     "no url here, just a@b", "https://h/path/with@at/sign"] {
            let redacted = RemoteURL.redacted(text)
            if text.hasPrefix("ssh://git@") {
                // A user name alone is redacted too: the rule does not guess which userinfo is secret.
                #expect(redacted == "ssh://***@h/r.git is ssh")
            } else {
                #expect(redacted == text, "\(text)")
            }
        }
    }

    @Test func plaintextToAnotherMachineIsToldApartFromLoopbackAndTLS() {
        #expect(RemoteURL.isPlaintextToAnotherMachine("http://git.example.com/r.git"))
        #expect(RemoteURL.isPlaintextToAnotherMachine("HTTP://10.1.2.3:8080/r.git"))
        #expect(!RemoteURL.isPlaintextToAnotherMachine("http://127.0.0.1:8080/r.git"))
        #expect(!RemoteURL.isPlaintextToAnotherMachine("http://localhost/r.git"))
        #expect(!RemoteURL.isPlaintextToAnotherMachine("http://[::1]:9/r.git"))
        #expect(!RemoteURL.isPlaintextToAnotherMachine("https://git.example.com/r.git"))
        #expect(!RemoteURL.isPlaintextToAnotherMachine("ssh://git@git.example.com/r.git"))
        #expect(RemoteURL.isPlaintextToAnotherMachine("http://127.0.0.1.evil.example/r.git"))
    }

    @Test func gitErrorsNeverCarryTheCredential() {
        let error = GitError(.network, "could not reach https://u:hunter2hunter2@h/r.git",
                             context: "clone https://u:hunter2hunter2@h/r.git", hint: "check https://u:hunter2hunter2@h")
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("https://***@h/r.git"))
    }
}

/// The same against real libgit2 operations: the hostile URL reaches clone, fetch and push.
@Suite("Remote credentials on real operations", .tags(.security))
struct RemoteCredentialOperationTests {
    static let token = "ghp_s3cr3tT0k3nValue"

    @Test func aTokenInTheURLNeverAppearsInAFetchOrCloneError() async throws {
        let box = try Sandbox()
        let server = try SilentServer()
        defer { server.stop() }
        let url = "http://x-access-token:\(Self.token)@127.0.0.1:\(server.port)/x.git"
        let repo = try Repository.create(at: box.path("cache.git"), bare: true)
        try repo.setRemote("origin", url: url)
        let options = RemoteOptions(deadline: .seconds(1))
        let fetchError = await #expect(throws: GitError.self) { try await repo.fetch(options: options) }
        let cloneError = await #expect(throws: GitError.self) {
            _ = try await Repository.clone(from: url, to: box.path("clone"), options: options)
        }
        for error in [fetchError, cloneError] {
            let text = "\(String(describing: error)) \(error?.message ?? "") \(error?.context ?? "")"
            #expect(!text.contains(Self.token), "\(text)")
            #expect(text.contains("***@127.0.0.1"), "\(text)")
        }
    }

    @Test func credentialsAreNeverSentOverPlainHTTPToAnotherMachine() async throws {
        let box = try Sandbox()
        // 192.0.2.1 is TEST-NET-1: nothing answers there, and nothing must even be tried.
        let withUserinfo = "http://x-access-token:\(Self.token)@192.0.2.1/x.git"
        let cloneError = await #expect(throws: GitError.self) {
            _ = try await Repository.clone(from: withUserinfo, to: box.path("clone"), options: RemoteOptions(deadline: .seconds(30)))
        }
        #expect(cloneError?.code == .auth)
        #expect(cloneError?.message.contains("refused to send credentials over plain http:// to 192.0.2.1") == true)
        #expect(cloneError?.description.contains(Self.token) == false)
        #expect(!FileManager.default.fileExists(atPath: box.path("clone")))

        // A token from the environment, to a URL without userinfo: refused the same way, for fetch and push.
        let repo = try Repository.create(at: box.path("cache.git"), bare: true)
        try repo.setRemote("origin", url: "http://192.0.2.1/x.git")
        let token = RemoteOptions(credentials: .token(environmentVariable: "PINWHEEL_TEST_TOKEN"), deadline: .seconds(30))
        let fetchError = await #expect(throws: GitError.self) { try await repo.fetch(options: token) }
        #expect(fetchError?.code == .auth)
        #expect(fetchError?.message.hasPrefix("refused to send credentials over plain http://") == true)
        #expect(fetchError?.hint?.contains("https://") == true)
        let pushError = await #expect(throws: GitError.self) { try await repo.push(branch: "main", options: token) }
        #expect(pushError?.code == .auth)
        #expect(pushError?.message.hasPrefix("refused to send credentials over plain http://") == true)
        // A push URL of its own is checked too.
        let pushing = try Repository.create(at: box.path("push.git"), bare: true)
        try pushing.setRemote("origin", url: "https://git.example.com/x.git")
        try box.git(["config", "remote.origin.pushurl", "http://u:\(Self.token)@192.0.2.1/x.git"], in: box.path("push.git"))
        let pushURLError = await #expect(throws: GitError.self) { try await pushing.push(branch: "main", options: RemoteOptions(deadline: .seconds(30))) }
        #expect(pushURLError?.code == .auth)
        #expect(pushURLError?.message.hasPrefix("refused to send credentials over plain http://") == true)
        #expect(pushURLError?.description.contains(Self.token) == false)
        // Each refusal is this rule's own error (.auth with its message), not a connection's failure or timeout:
        // nothing was sent.
    }
}
