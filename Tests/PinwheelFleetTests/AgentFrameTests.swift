import Testing
@testable import PinwheelFleet

/// The resident agent's framing: whole frames out of bytes in any pieces, an oversized one refused by its length.
@Suite("Agent frames")
struct AgentFrameTests {
    @Test func aFrameIsItsLengthBigEndianThenItsBytes() {
        #expect(AgentFrame.encode(Array("{}".utf8)) == [0, 0, 0, 2, UInt8(ascii: "{"), UInt8(ascii: "}")])
        #expect(AgentFrame.encode([UInt8]()) == [0, 0, 0, 0])
        #expect(Array(AgentFrame.encode([UInt8](repeating: 7, count: 0x01_02_03)).prefix(4)) == [0, 1, 2, 3])
    }

    @Test func framesArriveWholeWhateverThePieces() throws {
        let payloads: [[UInt8]] = [Array("first".utf8), [], Array(repeating: 0xff, count: 70_000), Array("last".utf8)]
        let stream = payloads.flatMap(AgentFrame.encode)
        for piece in [1, 3, 4, 5, 4096, stream.count] {
            var reader = AgentFrameReader(limit: 1 << 20)
            var received: [[UInt8]] = []
            var offset = 0
            while offset < stream.count {
                reader.append(stream[offset..<min(offset + piece, stream.count)])
                offset += piece
                while let frame = try reader.next() { received.append(frame) }
            }
            #expect(received == payloads, "pieces of \(piece) bytes")
            #expect(reader.pending == 0)
        }
    }

    @Test func aFrameCutShortIsNeverHandedOut() throws {
        var reader = AgentFrameReader(limit: 100)
        reader.append(AgentFrame.encode(Array("whole".utf8)).dropLast())
        #expect(try reader.next() == nil)
        #expect(reader.pending == 8)
        var short = AgentFrameReader(limit: 100)
        short.append([0, 0, 0])
        #expect(try short.next() == nil, "three bytes of a length are not a length")
        short.append([1, 42])
        #expect(try short.next() == [42])
    }

    @Test func anOversizedFrameIsRefusedByItsLengthAlone() {
        var reader = AgentFrameReader(limit: 1000)
        reader.append([0, 0, 0x03, 0xe9])  // 1001 bytes announced, none sent
        #expect(throws: AgentFrameReader.Oversized(length: 1001, limit: 1000)) { try reader.next() }
        var exact = AgentFrameReader(limit: 3)
        exact.append(AgentFrame.encode([1, 2, 3]))
        #expect((try? exact.next()) == [1, 2, 3], "a frame of exactly the limit is read")
    }
}

/// When a request that a resident session did not answer may be sent again on a fresh one.
@Suite("Resident retries")
struct ResidentRetryTests {
    @Test func onlyARequestThatNeverReachedTheAgentOrChangesNothingIsSentAgain() {
        let undelivered = ResidentOutcome.ended(status: 255, errors: "", delivered: false)
        let lost = ResidentOutcome.ended(status: 0, errors: "", delivered: true)
        // Written only in part (or not at all): the host's loop never ran it, whatever it is.
        #expect(undelivered.allowsRetry(readOnly: false, freshSession: false))
        #expect(undelivered.allowsRetry(readOnly: false, freshSession: true))
        // Written whole, then the session ended: a switch is never sent blindly again ...
        #expect(!lost.allowsRetry(readOnly: false, freshSession: false))
        #expect(!lost.allowsRetry(readOnly: false, freshSession: true))
        // ... an observation is, once, when the session was a stale one that had served before.
        #expect(lost.allowsRetry(readOnly: true, freshSession: false))
        #expect(!lost.allowsRetry(readOnly: true, freshSession: true), "a host whose fresh sessions fail is reported")
        // Past its deadline: a timeout, as a one-shot round trip's; an unreadable reply: an error.
        #expect(!ResidentOutcome.timedOut.allowsRetry(readOnly: true, freshSession: false))
        #expect(!ResidentOutcome.broken("too long").allowsRetry(readOnly: true, freshSession: false))
        #expect(!ResidentOutcome.reply([]).allowsRetry(readOnly: true, freshSession: false))
    }
}
