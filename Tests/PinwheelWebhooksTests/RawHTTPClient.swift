import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A deliberately small HTTP/1.1 client over a blocking socket, for 127.0.0.1 only: it lets the
/// tests send exactly the bytes a git host would (including a lying Content-Length), with a receive
/// timeout so a broken server fails the test instead of hanging it.
struct RawHTTPClient {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int

    /// Sends one request (`Connection: close`) and reads the reply's head and its Content-Length body.
    /// With a `Transfer-Encoding` header no Content-Length is sent (the body is then the caller's chunks).
    /// `bodyBytesToSend` sends only a prefix of the body (for a Content-Length the server should refuse).
    func send(
        _ method: String,
        _ path: String,
        headers: [String: String] = [:],
        body: [UInt8] = [],
        contentLength: Int? = nil,
        bodyBytesToSend: Int? = nil
    ) throws -> Reply {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(descriptor) }

        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if !headers.keys.contains(where: { $0.lowercased() == "transfer-encoding" }) {
            head += "Content-Length: \(contentLength ?? body.count)\r\n"
        }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        // A server that refuses a large body may close before it is all sent: that is not a failure.
        _ = sendAll(descriptor, Array(head.utf8) + body.prefix(bodyBytesToSend ?? body.count))

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let reply = try Self.parse(received) { return reply }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                received += buffer[0..<count]
            } else if count == 0 {
                if let reply = try Self.parse(received) { return reply }
                throw Failure(description: "connection closed after \(received.count) bytes without a complete reply")
            } else {
                throw Failure(description: "recv: errno \(errno) after \(received.count) bytes")
            }
        }
    }

    private func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// The reply in `bytes` if it is complete (head and Content-Length body), else nil.
    private static func parse(_ bytes: [UInt8]) throws -> Reply? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.firstRange(of: separator) else { return nil }
        let headText = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line in \(headText)")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let body = bytes[headEnd.upperBound...]
        guard body.count >= length else { return nil }
        return Reply(status: status, headers: headers, body: String(decoding: body.prefix(length), as: UTF8.self))
    }
}
