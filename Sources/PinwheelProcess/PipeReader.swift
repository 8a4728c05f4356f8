import Dispatch
import Foundation
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A pipe (a socket pair) a child process writes its output or errors to, read here as the bytes come, with no buffer held while
/// nothing comes.
///
/// swift-subprocess's own pipes keep a buffer the size of the pipe (64 KiB, zero-filled, so resident) for as long as a
/// read waits: 128 KiB per ssh client for its output and errors, for every round trip in flight and every resident
/// session kept open — 16 MB of a controller's memory with 64 of each. Here the read end is watched by a dispatch
/// source and read only when it is readable, into a buffer on the stack.
public final class PipeReader: Sendable {
    /// The write end, handed to the child (`closeAfterSpawningProcess: true`: it is the child's from then on).
    public let writeEnd: FileDescriptor
    /// What the child writes, in the pieces it comes in; it ends at the end of the output (every writer closed).
    public let chunks: AsyncStream<[UInt8]>
    private let source: Source

    /// The dispatch source: its cancel is safe from any thread, and a second one does nothing.
    private final class Source: @unchecked Sendable {
        let read: any DispatchSourceRead

        init(_ read: any DispatchSourceRead) {
            self.read = read
        }
    }

    /// One queue for every pipe: a handler only moves what is ready into a stream.
    private static let queue = DispatchQueue(label: "pinwheel.pipes")
    private static let readSize = 16 << 10

    public init() throws {
        // A socket pair, made close-on-exec at once: with pipe() and then fcntl, a child another task spawns in between
        // would inherit the write end, and this output would not end until that child did.
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw ProcessError(.io, "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        let readEnd = ends[0]
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        writeEnd = FileDescriptor(rawValue: ends[1])
        let (chunks, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        self.chunks = chunks
        let source = Source(DispatchSource.makeReadSource(fileDescriptor: readEnd, queue: Self.queue))
        self.source = source
        source.read.setEventHandler {
            guard !Self.drain(readEnd, into: continuation) else { return }
            source.read.cancel()
        }
        source.read.setCancelHandler {
            close(readEnd)
            continuation.finish()
        }
        continuation.onTermination = { _ in source.read.cancel() }
        source.read.resume()
    }

    /// Stops reading and closes the read end (the stream ends); a child still writing then gets EPIPE.
    public func cancel() {
        source.read.cancel()
    }

    /// Everything the child writes until the end of the output, as text; past `limit` bytes, the rest is read and
    /// dropped (so the child never blocks on a full pipe) and the result is an error.
    public func collect(limit: Int) async throws -> String {
        var bytes: [UInt8] = []
        var dropped = false
        for await chunk in chunks {
            if bytes.count + chunk.count > limit {
                dropped = true
                continue
            }
            bytes += chunk
        }
        guard !dropped else { throw ProcessError(.io, "the program wrote more than \(limit) bytes") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads what is ready into the stream; false at the end of the output (or an error reading it).
    private static func drain(_ descriptor: Int32, into continuation: AsyncStream<[UInt8]>.Continuation) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: readSize) { buffer in
            while true {
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                if count > 0 {
                    continuation.yield(Array(buffer[..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                }
            }
        }
    }

    deinit {
        cancel()
    }
}
