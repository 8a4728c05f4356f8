import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel logs` and `pinwheel exec` on a three-host loopback fleet, run as a user runs them.
@Suite("logs and exec", .serialized, .tags(.fleet))
struct LogsAndExecCommandTests {
    static let first = 18

    func deployedFleet() async throws -> TestFleet {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        _ = try await fleet.apply()
        return fleet
    }

    /// `pinwheel COMMAND ENV --repo … --allow-identity-dir … REST`: the options before any `--`.
    func pinwheel(_ fleet: TestFleet, _ arguments: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(Array(arguments.prefix(2)) + ["--repo", fleet.config] + fleet.allowIdentityArguments + arguments.dropFirst(2))
    }

    @Test func execRunsOnEveryHostWithTheArgumentsVerbatimAndSaysHowEachEnded() async throws {
        let fleet = try await deployedFleet()
        let marker = "\(fleet.directory)/owned"
        let hostile = ["$(touch \(marker))", "a b", "'; touch \(marker); '", "\"", "*", "`id`", "--help"]
        // Exits 3 on the second host (its working directory is under that host's folder), 0 elsewhere.
        let script = "import json, os, sys; print(json.dumps(sys.argv[1:])); sys.exit(3 if '\(fleet.name(1))' in os.getcwd() else 0)"
        let result = try pinwheel(fleet, ["exec", "fleet", "--", "python", "-c", script] + hostile)
        #expect(result.status == 1, "\(result.stderr)")
        let encoded = String(decoding: try JSONEncoder().encode(hostile), as: UTF8.self)
        for index in 0..<fleet.hosts {
            let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("\(fleet.name(index)) | ") })
            let printed = try JSONDecoder().decode([String].self, from: Data(line.dropFirst("\(fleet.name(index)) | ".count).utf8))
            #expect(printed == hostile, "\(encoded)")
        }
        #expect(result.stderr.contains("exec: 3 hosts — 2 exited 0, \(fleet.name(1)) exited 3"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))

        // --one: a single host, no prefix, the command's own exit status.
        let once = try pinwheel(fleet, ["exec", "fleet", "--one", "--", "python", "-c", "import os; print(os.environ['PINWHEEL_SLOT']); raise SystemExit(5)"])
        #expect(once.stdout == "A\n")
        #expect(once.status == 5)
    }

    /// `exec --one` at a terminal gets a terminal on the host and this one's input: run under `script`, which gives
    /// it a pseudo-terminal and types for it, as a person at `manage.py shell` would.
    @Test func execOneAtATerminalIsInteractive() async throws {
        // `script` may be gone before it is typed to: a write then fails, it does not end the test process.
        signal(SIGPIPE, SIG_IGN)
        let fleet = try await deployedFleet()
        let quote = { (word: String) in "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let words = [CLIRunner.executable.path, "exec", "fleet", "--repo", fleet.config]
            + fleet.allowIdentityArguments
            + ["--one", "--", "python", "-c", "import sys; print('tty', sys.stdin.isatty()); print('got', input()); raise SystemExit(4)"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-q", "-e", "-c", words.map(quote).joined(separator: " "), "/dev/null"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try await Task.sleep(for: .seconds(3))
        try? input.fileHandleForWriting.write(contentsOf: Data("hello there\n".utf8))
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("tty True"), "\(text)")
        #expect(text.contains("got hello there"), "\(text)")
        #expect(process.terminationStatus == 4, "\(text)")
    }

    @Test func logsShowsEveryHostsProgramsWithTheirHostAndProcess() async throws {
        let fleet = try await deployedFleet()
        let result = try pinwheel(fleet, ["logs", "fleet", "--slot", "active", "--program", "web", "-n", "5"])
        #expect(result.status == 0, "\(result.stderr)")
        for index in 0..<fleet.hosts {
            #expect(result.stdout.contains("\(fleet.name(index)) hello-web-A_"), "\(result.stdout)")
            #expect(result.stdout.contains("| hello-service 1.0.0 listening on 127.0.0.1:"), "\(result.stdout)")
        }
        #expect(!result.stdout.contains("hello-web-B_"))
        let unknown = try pinwheel(fleet, ["logs", "fleet", "--host", "web-99"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("has no host `web-99`"), "\(unknown.stderr)")
    }

    @Test func followingSurvivesAHostGoingAway() async throws {
        let fleet = try await deployedFleet()
        let output = "\(fleet.directory)/logs.out"
        let errors = "\(fleet.directory)/logs.err"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        let process = Process()
        process.executableURL = CLIRunner.executable
        process.arguments = ["logs", "fleet", "-f", "--program", "worker", "--slot", "A", "-n", "1", "--repo", fleet.config]
            + fleet.allowIdentityArguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        func waitFor(_ what: String, in path: String, timeout: Duration = .seconds(30)) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while !read(path).contains(what) {
                if ContinuousClock.now > deadline { return false }
                try await Task.sleep(for: .milliseconds(100))
            }
            return true
        }
        for index in 0..<fleet.hosts {
            #expect(try await waitFor("\(fleet.name(index)) | hello-worker 1.0.0", in: output), "\(read(output))")
        }
        try await fleet.stopHost(1)
        #expect(try await waitFor("following the other hosts", in: errors), "\(read(errors))")
        #expect(read(errors).contains(fleet.name(1)))
        // The worker prints a tick every 5 s: the other hosts' new lines still arrive.
        func lines(of index: Int) -> Int {
            read(output).components(separatedBy: "\n").filter { $0.hasPrefix("\(fleet.name(index)) | ") }.count
        }
        let before = lines(of: 2)
        let deadline = ContinuousClock.now + .seconds(20)
        while lines(of: 2) <= before && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(lines(of: 2) > before, "\(read(output))")
        #expect(process.isRunning)
        process.interrupt()
        process.waitUntilExit()
        try await fleet.startHost(1)
    }
}
