import Foundation
import PinwheelCore
import Testing

/// A running `pinwheel watch`, its log in a file: the suites that test the controller as a process (killed,
/// signalled, coordinated, scraped) start it through this.
///
/// The log is JSON (`--log-format json`), and tests follow it by its ``ControllerEvent`` codes and fields, never by a
/// message's wording: ``waitFor(_:after:timeout:where:)`` and ``events(since:)``.
public final class WatchProcess {
    public let process = Process()
    public let log: String

    /// One line of the log: its fields, every value a string (`event`, `msg`, `env`, `commit`, …).
    public typealias Event = [String: String]

    /// `allow` is the fleet's folder, where its private key and known_hosts are (`--allow-identity-dir`).
    public init(remote: String, allow: String, cache: String, log: String, interval: String = "200ms", extra: [String] = [],
                environment: [String: String] = [:]) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = CLIRunner.executable
        process.arguments = ["watch", "--repo", remote, "--interval", interval, "--cache", cache, "--drift-interval", "1h",
                             "--allow-identity-dir", allow, "--log-format", "json"] + extra
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
    }

    /// The whole log as written: for a failure's message, and for what must never be in it.
    public var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Every line of the log that is a JSON object, in order (a line being written is left for the next read).
    public var events: [Event] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        return lines.compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return object.compactMapValues { $0 as? String }
        }
    }

    /// How many events the log holds now: ``waitFor(_:after:timeout:where:)`` and ``events(since:)`` look only at
    /// later ones.
    public var mark: Int { events.count }

    public func events(since mark: Int) -> [Event] {
        Array(events.dropFirst(mark))
    }

    /// The events since `mark` whose code is `event` and whose fields hold `fields`.
    public func events(_ event: ControllerEvent, since mark: Int = 0, where fields: Event = [:]) -> [Event] {
        events(since: mark).filter { Self.matches($0, event, fields) }
    }

    /// Waits for the first event since `mark` whose code is `event` and whose fields hold `fields` (`commit` matches a
    /// full commit ID or a prefix of one, at least 7 digits), and returns it; records an issue (and returns nil) when none comes in time.
    @discardableResult
    public func waitFor(_ event: ControllerEvent, after mark: Int = 0, timeout: Duration = .seconds(60),
                        where fields: Event = [:]) async throws -> Event? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = events(event, since: mark, where: fields).first { return found }
            guard ContinuousClock.now < deadline else {
                Issue.record("no \(event.rawValue) event with \(fields) in the log within \(timeout):\n\(text.suffix(6000))")
                return nil
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func matches(_ line: Event, _ event: ControllerEvent, _ fields: Event) -> Bool {
        guard line["event"] == event.rawValue else { return false }
        return fields.allSatisfy { key, value in
            guard let actual = line[key] else { return false }
            guard key == "commit" else { return actual == value }
            return min(actual.count, value.count) >= 7 && (actual.hasPrefix(value) || value.hasPrefix(actual))
        }
    }

    /// Sends `signal` while the process runs (never to a process ID it no longer owns).
    public func signal(_ signal: Int32) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }
}
