import PinwheelGit
import Testing
@testable import PinwheelController

/// What a replica reads again of the statuses other replicas record: only what changed.
@Suite struct PeerStatusReadsTests {
    static func id(_ digit: Character) -> ObjectID { ObjectID(hex: String(repeating: digit, count: 40))! }

    @Test func aStatusIsReadAgainOnlyWhenItsFileChanged() {
        var reads = PeerStatusReads()
        let first = reads.moved(to: Self.id("1"))
        let again = reads.moved(to: Self.id("1"))
        #expect(first && !again, "looked at once while the branch has not moved")
        let orders = reads.isNew("orders", file: Self.id("a"))
        let sameFile = reads.isNew("orders", file: Self.id("a"))
        let search = reads.isNew("search", file: Self.id("a"))
        #expect(orders && !sameFile, "the same file: nothing to read")
        #expect(search, "another environment's file is its own")
        let moved = reads.moved(to: Self.id("2"))
        let changed = reads.isNew("orders", file: Self.id("b"))
        #expect(moved && changed)
    }

    @Test func anEnvironmentForgottenIsReadAgainEvenWhereNothingMoved() {
        var reads = PeerStatusReads()
        _ = reads.moved(to: Self.id("1"))
        _ = reads.isNew("orders", file: Self.id("a"))
        reads.forget("orders")
        let lookedAt = reads.moved(to: Self.id("1"))
        let readAgain = reads.isNew("orders", file: Self.id("a"))
        #expect(lookedAt && readAgain, "looked at again on the next poll, and read")
    }
}
