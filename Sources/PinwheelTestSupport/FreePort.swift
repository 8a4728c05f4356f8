import Foundation

/// A TCP port on 127.0.0.1 that nothing listens on now, chosen by the OS, so test targets and suites can run
/// side by side without agreeing on numbers.
public enum FreePort {
    public static func next() throws -> Int {
        let (descriptor, port) = try LoopbackSocket.bind()
        close(descriptor)
        return port
    }
}

/// A TCP port on loopback that accepts connections and never says a word: a host whose sshd hangs.
public final class SilentListener: Sendable {
    private let descriptor: Int32
    public let port: Int

    public init() throws {
        (descriptor, port) = try LoopbackSocket.bind()
        guard listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw CocoaError(.fileWriteUnknown)
        }
    }

    deinit {
        close(descriptor)
    }
}

enum LoopbackSocket {
    /// A TCP socket bound to a port of the OS's choosing on 127.0.0.1, and that port.
    static func bind() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw CocoaError(.fileWriteUnknown)
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
