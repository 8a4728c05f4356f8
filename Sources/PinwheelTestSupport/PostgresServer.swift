import Foundation

/// A real PostgreSQL server (Debian's `postgresql`, installed by `scripts/setup`) of a test's own: a fresh cluster in
/// a private folder, listening on a free loopback port, password authentication over TCP, removed when stopped.
///
/// PostgreSQL refuses to run as root; as root (CI, containers) the cluster belongs to the `postgres` user the
/// package creates, and the server runs as it through `setpriv` (which execs, so the process is the server's own).
public final class PostgresServer: @unchecked Sendable {
    public let folder: TemporaryFolder
    public let port: Int
    public let username = "pinwheel"
    public let password: String
    public let database = "postgres"
    public let process = Process()
    let binaries: String

    public init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw ShellFailure("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin): run scripts/setup")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        folder = try TemporaryFolder("postgres")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        port = try FreePort.next()
        password = UUID().uuidString
        let passwordFile = folder.path("password")
        try password.write(toFile: passwordFile, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: passwordFile)
        let data = folder.path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        if Self.asRoot {
            try Self.run("/bin/chown", ["postgres:postgres", data, folder.path])
        }
        try Self.run(Self.asRoot ? "/usr/bin/setpriv" : "\(binaries)/initdb",
                     Self.userArguments + (Self.asRoot ? ["\(binaries)/initdb"] : [])
                        + ["-D", data, "-U", username, "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(passwordFile)",
                           "-E", "UTF8", "--no-sync", "--no-instructions"])
        process.executableURL = URL(fileURLWithPath: Self.asRoot ? "/usr/bin/setpriv" : "\(binaries)/postgres")
        process.arguments = Self.userArguments + (Self.asRoot ? ["\(binaries)/postgres"] : [])
            + ["-D", data, "-k", folder.path, "-c", "listen_addresses=127.0.0.1", "-p", "\(port)", "-c", "fsync=off",
               "-c", "log_min_messages=warning"]
        process.standardOutput = FileHandle.nullDevice
        let log = folder.path("server.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        try waitUntilReady()
    }

    /// The URL a controller is given (the password goes separately).
    public var url: String { "postgres://\(username)@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// The server's log, for failure messages.
    public var log: String { (try? String(contentsOfFile: folder.path("server.log"), encoding: .utf8)) ?? "" }

    /// Stops the server (fast shutdown) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
    }

    /// Pauses or resumes the server (SIGSTOP, SIGCONT): a database that stops answering without closing anything.
    /// The postmaster and every process it forked (each connection's backend): pausing the postmaster alone leaves
    /// open connections answering.
    public func pause() { signalTree(SIGSTOP) }
    public func resume() { signalTree(SIGCONT) }

    private func signalTree(_ signal: Int32) {
        let server = process.processIdentifier
        kill(server, signal)
        for child in Self.children(of: server) { kill(child, signal) }
    }

    /// The processes whose parent is `parent`, from /proc.
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // `pid (comm) state ppid …`: the command may hold spaces and parentheses, so read after the last `)`.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    deinit {
        resume()
        stop()
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else { throw ShellFailure("postgres exited: \(log)") }
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "\(binaries)/pg_isready")
            probe.arguments = ["-q", "-h", "127.0.0.1", "-p", "\(port)"]
            try probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ShellFailure("postgres did not accept connections within 30 s: \(log)")
    }

    static var asRoot: Bool { geteuid() == 0 }
    static let userArguments = asRoot ? ["--reuid=postgres", "--regid=postgres", "--init-groups"] : []

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ShellFailure("\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: output, as: UTF8.self))")
        }
    }
}

/// A helper program that failed, with what it said.
public struct ShellFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
