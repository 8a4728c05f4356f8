import Testing
@testable import PinwheelCore

@Suite("Signed ranges")
struct SignedRangeTests {
    static let good = SignatureState.good(principal: "alice@example.com", key: "ED25519 SHA256:abc")

    static func commit(_ id: String, _ signature: SignatureState, accepts: [String] = []) -> SignedRange.Commit {
        SignedRange.Commit(id: id, author: "Mallory <m@example.com>", summary: "change \(id)", signature: signature, accepts: accepts)
    }

    @Test func aRangeOfTrustedCommitsIsClean() {
        #expect(SignedRange.verdict([Self.commit("c3", Self.good), Self.commit("c2", Self.good)]) == .clean(accepted: []))
        #expect(SignedRange.verdict([]) == .clean(accepted: []))
    }

    @Test func anUnsignedCommitInTheMiddleRefusesTheRange() throws {
        let verdict = SignedRange.verdict([Self.commit("c3", Self.good), Self.commit("c2", .unsigned), Self.commit("c1", Self.good)])
        guard case let .refused(offences) = verdict else { Issue.record("not refused: \(verdict)"); return }
        #expect(offences.map(\.commit.id) == ["c2"])
        #expect(offences[0].reason == "unsigned")
    }

    @Test func everyKindOfUntrustedSignatureRefuses() {
        for state: SignatureState in [.unsigned, .untrusted(key: "ED25519 SHA256:x"), .bad(reason: "incorrect signature"),
                                      .restricted(key: "ED25519 SHA256:x", reason: "key has expired"),
                                      .unsupported(format: "OpenPGP"), .unchecked] {
            #expect(!state.isTrusted)
            guard case .refused = SignedRange.verdict([Self.commit("c1", state)]) else {
                Issue.record("\(state) was not refused"); continue
            }
        }
    }

    @Test func aSignedRevertOnTopDoesNotLaunderAnUnsignedCommit() {
        // The revert undoes the unsigned change's content, but the unsigned commit is still in the range.
        let verdict = SignedRange.verdict([Self.commit("revert", Self.good), Self.commit("c2", .unsigned)])
        guard case let .refused(offences) = verdict else { Issue.record("laundered: \(verdict)"); return }
        #expect(offences.map(\.commit.id) == ["c2"])
    }

    @Test func aTrustedCommitThatNamesTheUnsignedOneAcceptsIt() {
        let accepting = Self.commit("c3", Self.good, accepts: ["C2"])
        #expect(SignedRange.verdict([accepting, Self.commit("c2", .unsigned)]) == .clean(accepted: ["c2"]))
        // An untrusted commit cannot accept anything, not even itself.
        let selfAccepting = Self.commit("c2", .untrusted(key: "k"), accepts: ["c2"])
        guard case .refused = SignedRange.verdict([selfAccepting]) else { Issue.record("accepted itself"); return }
        // Accepting one commit does not accept another.
        guard case let .refused(offences) = SignedRange.verdict([accepting, Self.commit("c2", .unsigned), Self.commit("c1", .unsigned)]) else {
            Issue.record("not refused"); return
        }
        #expect(offences.map(\.commit.id) == ["c1"])
    }

    @Test func theMessageNamesTheCommitItsAuthorAndWhy() {
        let offences = [SignedRange.Offence(commit: Self.commit("c1", .unsigned), reason: "unsigned"),
                        SignedRange.Offence(commit: Self.commit("c2", .unsigned), reason: "unsigned")]
        let message = SignedRange.message(offences, tip: "tip", applied: "base")
        #expect(message.hasPrefix("unverified commit c1 by Mallory <m@example.com> (\"change c1\"): unsigned; 1 more unverified commit"))
        #expect(message.contains("; range base..tip, from the last applied commit; nothing applied."))
        #expect(message.contains("Pinwheel-Accept: c1"))
        #expect(SignedRange.message(Array(offences.prefix(1)), tip: "tip", applied: nil).contains("; nothing was applied before, so the tip tip alone is checked; nothing applied."))
    }

    @Test func acceptTrailersAreRead() {
        #expect(SignedRange.accepts(in: [("Pinwheel-Accept", " abc "), ("Signed-off-by", "x"), ("pinwheel-accept", "def")]) == ["abc", "def"])
    }

    @Test func theStateReadsAsASentence() {
        #expect(Self.good.description == "good signature by alice@example.com (ED25519 SHA256:abc)")
        #expect(SignatureState.untrusted(key: "ED25519 SHA256:x").word == "untrusted")
        let expired = SignatureState.restricted(key: "ED25519 SHA256:x", reason: "allowed_signers:1: key has expired")
        #expect(expired.word == "restricted")
        #expect(expired.description == "signed by a key (ED25519 SHA256:x) the controller's trusted keys do not allow "
            + "here: allowed_signers:1: key has expired")
    }

    @Test func aPolicyRequiresSignatures() throws {
        var files = Fixture.files
        files[Fixture.policyPath] = "verify: {signatures: required}\n"
        let policy = try #require(try Fixture.load(files).policies["prod"])
        #expect(policy.verify.requiresSignatures)
        files[Fixture.policyPath] = "drift: report\n"
        #expect(try Fixture.load(files).policies["prod"]?.verify.requiresSignatures == false)
    }
}
