import Foundation
import Testing
@testable import PinwheelGit

@Suite struct SignatureTests {
    @Test func signedAndUnsignedCommits() throws {
        let box = try Sandbox()
        let work = box.path("work")
        _ = try Repository.create(at: work)
        let key = box.path("signing_key")
        let keygen = Process()
        keygen.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        keygen.arguments = ["-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f", key]
        try keygen.run()
        keygen.waitUntilExit()
        #expect(keygen.terminationStatus == 0)

        let unsigned = try box.commit(["a": "1\n"], message: "unsigned", in: work)
        try box.write("a", "2\n", in: work)
        try box.git(["add", "-A"], in: work)
        try box.git(["-c", "gpg.format=ssh", "-c", "user.signingkey=\(key)", "commit", "-q", "-S", "-m", "signed"], in: work)
        let signed = try box.git(["rev-parse", "HEAD"], in: work)

        let repo = try Repository(openingAt: work)
        let unsignedID = try #require(ObjectID(hex: unsigned))
        let signedID = try #require(ObjectID(hex: signed))
        #expect(try repo.signature(of: unsignedID) == nil)
        let result = try #require(try repo.signature(of: signedID))
        #expect(result.signature.hasPrefix("-----BEGIN SSH SIGNATURE-----"))
        #expect(result.signature.contains("-----END SSH SIGNATURE-----"))
        #expect(result.signedData.hasPrefix("tree "))
        #expect(result.signedData.contains("\n\nsigned\n"))
        #expect(!result.signedData.contains("gpgsig"))
        // The signed data is exactly the commit object without its gpgsig header.
        let raw = try box.git(["cat-file", "commit", signed], in: work)
        #expect(raw.contains("gpgsig -----BEGIN SSH SIGNATURE-----"))
        #expect(result.signedData.trimmingCharacters(in: .newlines) ==
                raw.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.hasPrefix("gpgsig") && !$0.hasPrefix(" ") }.joined(separator: "\n"))

        #expect(throws: GitError.self) { try repo.signature(of: ObjectID(hex: String(repeating: "1", count: 40))!) }
    }
}
