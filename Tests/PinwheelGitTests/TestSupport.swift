import Foundation
import PinwheelGit
#if canImport(Glibc)
import Glibc
#endif

/// A temporary folder with helpers to build fixtures with the `git` CLI (tests only).
final class Sandbox {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Runs git in `directory`, returns trimmed stdout; throws on non-zero exit.
    @discardableResult
    func git(_ args: [String], in directory: String, env: [String: String] = [:], input: Data? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"] + args
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = root.path
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_AUTHOR_NAME"] = "Ada Author"
        environment["GIT_AUTHOR_EMAIL"] = "ada@example.com"
        environment["GIT_COMMITTER_NAME"] = "Cy Committer"
        environment["GIT_COMMITTER_EMAIL"] = "cy@example.com"
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(input)
            try inPipe.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("git \(args.joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self))")
        }
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func write(_ relative: String, _ text: String, in directory: String) throws {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Writes files and commits them in a work tree; returns the new commit id.
    @discardableResult
    func commit(_ files: [String: String], message: String, in directory: String, date: String? = nil) throws -> String {
        for (name, text) in files { try write(name, text, in: directory) }
        try git(["add", "-A"], in: directory)
        var env: [String: String] = [:]
        if let date {
            env["GIT_AUTHOR_DATE"] = date
            env["GIT_COMMITTER_DATE"] = date
        }
        try git(["commit", "-q", "-m", message], in: directory, env: env)
        return try git(["rev-parse", "HEAD"], in: directory)
    }

    /// A work tree with a first commit, plus a bare "remote" it pushed to; returns (work, bareURL).
    func workAndRemote() throws -> (work: String, remote: String, url: String) {
        let remote = path("remote.git")
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        try git(["init", "-q", "--bare"], in: remote)
        let work = path("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try git(["init", "-q"], in: work)
        try commit(["README.md": "hello\n", "apps/web/deploy.yaml": "replicas: 1\n"], message: "Initial", in: work)
        try git(["remote", "add", "origin", "file://\(remote)"], in: work)
        try git(["push", "-q", "origin", "main"], in: work)
        return (work, remote, "file://\(remote)")
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let ada = Signature(name: "Ada Author", email: "ada@example.com",
                    date: Date(timeIntervalSince1970: 1_700_000_000), timeZoneOffsetMinutes: 60)

/// A TCP listener on 127.0.0.1 that accepts connections and never sends a byte.
final class SilentServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private var stopped = false

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw FixtureError("cannot listen") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { return }
                lock.lock()
                if stopped { close(fd) } else { accepted.append(fd) }
                lock.unlock()
            }
        }
        thread.start()
    }

    func stop() {
        lock.lock()
        stopped = true
        accepted.forEach { close($0) }
        accepted = []
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    var connectionCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return accepted.count
    }
}
