/// The resident agent's framing, in both directions: four bytes of length (big-endian), then that many bytes of JSON
/// (the agent's source once, first). A length says where a message ends whatever bytes it holds, so a reply is never
/// searched for in a stream, and a request cut short is one the host never ran (its loop acts on whole frames only).
public enum AgentFrame {
    /// The most one frame may say it holds: what a 32-bit length can.
    public static let maximumLength = Int(UInt32.max)

    /// `payload` as one frame.
    public static func encode(_ payload: some Collection<UInt8>) -> [UInt8] {
        precondition(payload.count <= maximumLength, "a frame holds at most 4 GiB")
        let length = UInt32(payload.count)
        var frame: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        frame.reserveCapacity(4 + payload.count)
        frame.append(contentsOf: payload)
        return frame
    }
}

/// Cuts the bytes a host sends, in whatever pieces they arrive, into frames, refusing one longer than `limit` as soon
/// as its length is read (before its bytes are kept), so a compromised host cannot make the controller buffer more
/// than one bounded reply.
public struct AgentFrameReader: Sendable {
    /// Why the bytes cannot be read as frames: the session that sent them is ended.
    public struct Oversized: Error, Sendable, Equatable, CustomStringConvertible {
        public var length: Int
        public var limit: Int

        public var description: String {
            "the host sent a reply of \(length) bytes, more than the \(limit) bytes a reply may hold"
        }
    }

    public let limit: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limit: Int) {
        self.limit = limit
    }

    /// Bytes received and not yet handed out as a frame.
    public var pending: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame's payload; nil until one has arrived whole.
    public mutating func next() throws(Oversized) -> [UInt8]? {
        guard pending >= 4 else { return nil }
        let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard length <= limit else { throw Oversized(length: length, limit: limit) }
        guard pending >= 4 + length else { return nil }
        let payload = Array(buffer[(start + 4)..<(start + 4 + length)])
        start += 4 + length
        if start == buffer.count {
            // Nothing kept between replies: a session waits idle far longer than it reads, and 64 of them each keeping
            // the room of their largest reply add up.
            buffer = []
            start = 0
        }
        return payload
    }
}
