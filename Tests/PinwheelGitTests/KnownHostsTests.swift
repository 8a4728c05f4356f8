import Foundation
import Testing
@testable import PinwheelGit

@Suite struct KnownHostsTests {
    @Test func sha1AndHMACVectors() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hmac(key: Array("key".utf8), message: Array("The quick brown fox jumps over the lazy dog".utf8)))
                == "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9")
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
            .write(toFile: file, atomically: true, encoding: .utf8)
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
