import Foundation
import Testing
@testable import PinwheelGit

@Suite struct KnownHostsTests {
    /// Lines `ssh-keygen -H` wrote for `git.example.com` and `[127.0.0.1]:2222`, kept verbatim so the
    /// hashed-entry match (HMAC-SHA1 of the name under the salt) is checked against OpenSSH's own output.
    static let hashedLines = """
        |1|xqm0xg8CZEqKhedEfzw+NWqTe+o=|+IiYvGLYonI+HEnyV4/fRHsZ5Ds= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUiRV+L+6W0+ZrHngMR55iWUlrFm2GPP+zothMNX+QF
        |1|1P6fDQSjVVY5T5reSgOR4fQRMAw=|7rVaDTsK24EhcAwoENCFXYWoQJs= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUiRV+L+6W0+ZrHngMR55iWUlrFm2GPP+zothMNX+QF
        """
    static let hashedKey = [UInt8](Data(base64Encoded: "AAAAC3NzaC1lZDI1NTE5AAAAIEUiRV+L+6W0+ZrHngMR55iWUlrFm2GPP+zothMNX+QF")!)

    @Test func hashedEntriesFromOpenSSH() {
        let known = KnownHosts(text: Self.hashedLines, path: "inline")
        #expect(known.entries.count == 2)
        #expect(known.entries.allSatisfy { $0.hashed != nil })
        #expect(known.verify(host: "git.example.com", port: 22, key: Self.hashedKey) == .trusted)
        #expect(known.verify(host: "127.0.0.1", port: 2222, key: Self.hashedKey) == .trusted)
        // Names are hashed as they are: another port, another case or a near miss finds nothing.
        #expect(known.verify(host: "127.0.0.1", port: 22, key: Self.hashedKey) == .unknownHost)
        #expect(known.verify(host: "GIT.example.com", port: 22, key: Self.hashedKey) == .unknownHost)
        #expect(known.verify(host: "git.example.co", port: 22, key: Self.hashedKey) == .unknownHost)
        var otherKey = Self.hashedKey
        otherKey[otherKey.count - 1] ^= 1
        #expect(known.verify(host: "git.example.com", port: 22, key: otherKey) == .mismatch)
    }

    @Test func malformedHashedEntriesAreSkippedOrNeverMatch() {
        let key = "AAAAC3NzaC1lZDI1NTE5AAAAIEUiRV+L+6W0+ZrHngMR55iWUlrFm2GPP+zothMNX+QF"
        let text = """
            |1|not-base64!|+IiYvGLYonI+HEnyV4/fRHsZ5Ds= ssh-ed25519 \(key)
            |1|xqm0xg8CZEqKhedEfzw+NWqTe+o= ssh-ed25519 \(key)
            |1|xqm0xg8CZEqKhedEfzw+NWqTe+o=|+IiYvGLY ssh-ed25519 \(key)
            """
        let known = KnownHosts(text: text, path: "inline")
        // The first two do not parse; the third has a truncated hash, which matches no name.
        #expect(known.entries.count == 1)
        #expect(known.verify(host: "git.example.com", port: 22, key: Self.hashedKey) == .unknownHost)
    }

    @Test func plainHashedPortAndMismatch() throws {
        let box = try Sandbox()
        let keyA = box.path("a"), keyB = box.path("b")
        for key in [keyA, keyB] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
            p.arguments = ["-q", "-t", "ed25519", "-N", "", "-f", key]
            try p.run()
            p.waitUntilExit()
        }
        func blob(_ path: String) throws -> (line: String, bytes: [UInt8]) {
            let parts = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
            return ("\(parts[0]) \(parts[1])", [UInt8](Data(base64Encoded: String(parts[1]))!))
        }
        let a = try blob(keyA), b = try blob(keyB)
        let file = box.path("known_hosts")
        try "# comment\ngit.example.com,10.0.0.1 \(a.line)\n[127.0.0.1]:2222 \(a.line)\n*.wild.test,!bad.wild.test \(b.line)\n"
            .write(toFile: file, atomically: false, encoding: .utf8)
        // Hash the file with ssh-keygen itself, so hashed entries are OpenSSH's real format.
        let hashed = box.path("known_hosts_hashed")
        try FileManager.default.copyItem(atPath: file, toPath: hashed)
        let h = Process()
        h.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        h.arguments = ["-q", "-H", "-f", hashed]
        h.standardOutput = FileHandle.nullDevice
        h.standardError = FileHandle.nullDevice
        try h.run()
        h.waitUntilExit()
        #expect(try String(contentsOfFile: hashed, encoding: .utf8).contains("|1|"))

        for path in [file, hashed] {
            let known = try KnownHosts(contentsOf: path)
            #expect(known.verify(host: "git.example.com", port: 22, key: a.bytes) == .trusted)
            #expect(known.verify(host: "10.0.0.1", port: 22, key: a.bytes) == .trusted)
            #expect(known.verify(host: "git.example.com", port: 22, key: b.bytes) == .mismatch)
            #expect(known.verify(host: "127.0.0.1", port: 2222, key: a.bytes) == .trusted)
            #expect(known.verify(host: "127.0.0.1", port: 22, key: a.bytes) == .unknownHost)
            #expect(known.verify(host: "other.example.com", port: 22, key: a.bytes) == .unknownHost)
        }
        let plain = try KnownHosts(contentsOf: file)
        #expect(plain.verify(host: "x.wild.test", port: 22, key: b.bytes) == .trusted)
        #expect(plain.verify(host: "bad.wild.test", port: 22, key: b.bytes) == .unknownHost)
        #expect(throws: GitError.self) { try KnownHosts(contentsOf: box.path("missing")) }
    }
}
