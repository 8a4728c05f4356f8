import Foundation
import Testing

/// A running `pinwheel watch`, its log in a file: the suites that test the controller as a process (killed,
/// signalled, coordinated, scraped) start it through this.
public final class WatchProcess {
    public let process = Process()
    public let log: String

    /// `allow` is the fleet's folder, where its private key and known_hosts are (`--allow-identity-dir`).
    public init(remote: String, allow: String, cache: String, log: String, interval: String = "200ms", extra: [String] = [],
                environment: [String: String] = [:]) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = CLIRunner.executable
        process.arguments = ["watch", "--repo", remote, "--interval", interval, "--cache", cache, "--drift-interval", "1h",
                             "--allow-identity-dir", allow] + extra
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
    }

    public var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Where the log ends now: `waitFor(_:after:)` looks only at what comes later.
    public var mark: Int { text.utf8.count }

    public func since(_ mark: Int) -> String {
        String(decoding: Array(text.utf8).dropFirst(mark), as: UTF8.self)
    }

    public func waitFor(_ fragment: String, after mark: Int = 0, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !since(mark).contains(fragment) {
            guard ContinuousClock.now < deadline else {
                Issue.record("no `\(fragment)` in the log within \(timeout):\n\(text)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends `signal` while the process runs (never to a process ID it no longer owns).
    public func signal(_ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }
}
