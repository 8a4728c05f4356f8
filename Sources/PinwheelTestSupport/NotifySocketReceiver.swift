import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's side of `$NOTIFY_SOCKET` in a test: an `AF_UNIX` datagram socket bound to a path, from which the
/// service's messages are read one datagram at a time, as the service manager reads them.
public final class NotifySocketReceiver: @unchecked Sendable {
    /// What to put in `$NOTIFY_SOCKET`: the path, or `@` and the abstract name.
    public let path: String
    private let descriptor: Int32

    /// Binds `path` (it must not exist; it is removed again by `deinit`).
    public convenience init(path: String) throws {
        try self.init(name: Array(path.utf8), display: path)
    }

    /// Binds `name` in Linux's abstract namespace (`$NOTIFY_SOCKET` is then `@name`): nothing on disk.
    public convenience init(abstractName name: String) throws {
        try self.init(name: [0] + Array(name.utf8), display: "@\(name)")
    }

    private init(name: [UInt8], display: String) throws {
        path = display
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard name.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw POSIXError(.ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        // An abstract name is exactly as long as the address says; a path ends at its NUL.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let error = errno
            close(descriptor)
            throw POSIXError(.init(rawValue: error) ?? .EIO)
        }
    }

    deinit {
        close(descriptor)
        if path.hasPrefix("/") { unlink(path) }
    }

    /// The next datagram, or nil when none arrives within `timeout`.
    public func receive(timeout: Duration) -> String? {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&request, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    /// Every datagram that arrives within `duration`.
    public func receiveAll(for duration: Duration) -> [String] {
        let deadline = ContinuousClock.now + duration
        var messages: [String] = []
        while case let left = deadline - ContinuousClock.now, left > .zero {
            if let message = receive(timeout: left) { messages.append(message) }
        }
        return messages
    }

    /// Reads datagrams until one contains `fragment` (returned), dropping those before it; nil after `timeout`.
    public func receive(containing fragment: String, timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        while case let left = deadline - ContinuousClock.now, left > .zero {
            if let message = receive(timeout: left), message.contains(fragment) { return message }
        }
        return nil
    }

    /// `receiveAll(for:)` on a thread of its own, so an async test waiting seconds for datagrams does not hold one
    /// of the few threads of Swift's cooperative pool that other suites run on.
    public func collect(for duration: Duration) async -> [String] {
        await Self.onThread { self.receiveAll(for: duration) }
    }

    /// `receive(containing:timeout:)` on a thread of its own.
    public func next(containing fragment: String, timeout: Duration) async -> String? {
        await Self.onThread { self.receive(containing: fragment, timeout: timeout) }
    }

    private static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }
}
