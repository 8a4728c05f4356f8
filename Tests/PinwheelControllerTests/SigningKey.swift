import Foundation
import PinwheelTestSupport
import Testing

/// An ed25519 key made with ssh-keygen for git's SSH signing.
struct SigningKey {
    let principal: String
    let path: String

    static func make(_ name: String, in folder: String) async throws -> SigningKey {
        let path = "\(folder)/\(name)"
        let made = try await Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path])
        try #require(made.status == 0, "ssh-keygen: \(made.standardError)")
        return SigningKey(principal: "\(name)@example.com", path: path)
    }

    /// `alice@example.com ssh-ed25519 AAAA…`, a line of an allowed-signers file.
    func allowedSignersLine() throws -> String {
        let fields = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        return "\(principal) \(fields[0]) \(fields[1])"
    }
}

extension ConfigRemote {
    /// Commits everything changed (or nothing) signed with `key` (git's `gpg.format=ssh`) and pushes it.
    @discardableResult
    func signedCommitAndPush(_ message: String, key: SigningKey, author: String = "Alice") async throws -> String {
        try await inWork(["add", "-A"])
        try await inWork(["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key.path)", "-c", "user.name=\(author)",
                          "-c", "user.email=\(author.lowercased())@example.com", "commit", "-S", "-q", "--allow-empty", "-m", message])
        try await inWork(["push", "-q", "origin", "main"])
        return try await head()
    }
}
