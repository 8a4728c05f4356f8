import Foundation
import PinwheelCore
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelFleet

/// Program settings on a real loopback fleet: the processes get the variables (from git and from a file on the
/// host), run as their own user, and drain a request in flight when they are stopped.
@Suite("Program settings on a real fleet", .serialized, .tags(.fleet))
struct ProgramSettingsOnARealFleetTests {
    static let first = 5
    /// Created by scripts/setup.
    static let user = "pinwheel-app"

    /// A fleet whose web program sets every setting; the env file exists on the hosts (which share this machine).
    func startFleet(greeting: String = "hi from {slot} on {port}") async throws -> (TestFleet, envFile: String) {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        // The fleet's folder is private (mkdtemp); the program's user must reach the slots under it.
        #expect(chmod(fleet.directory, 0o711) == 0)
        let envFile = "\(fleet.directory)/secrets.env"
        try "HELLO_SECRET=s3cret-value-42\n".write(toFile: envFile, atomically: false, encoding: .utf8)
        try setSettings(fleet, greeting: greeting, envFile: envFile)
        return (fleet, envFile)
    }

    /// Puts the settings under the web program, in place of any set before.
    func setSettings(_ fleet: TestFleet, greeting: String, envFile: String) throws {
        let settings = [
            "    environment:",
            "      HELLO_GREETING: \"\(greeting)\"",
            "    envFile: \(envFile)",
            "    user: \(Self.user)",
            "    stopSignal: INT",
            "    stopTimeout: 10s",
        ]
        try fleet.editEnvironment { text in
            var lines: [String] = []
            var skipping = false
            for line in text.components(separatedBy: "\n") {
                if skipping, line.hasPrefix("    ") { continue }
                skipping = false
                lines.append(line)
                if line.hasPrefix("    health: {path: /healthz") {
                    lines += settings
                    skipping = true
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    @Test func processesSeeTheirVariablesAndRunAsTheirUser() async throws {
        guard getpwnam(Self.user) != nil else {
            Issue.record("the user \(Self.user) does not exist: run scripts/setup")
            return
        }
        let (fleet, _) = try await startFleet()
        let reports = try await fleet.apply()
        #expect(reports.allSatisfy { $0.outcome == .changed }, "\(reports.map { $0.error?.message ?? "" })")
        let environment = try fleet.environment()
        let web = try #require(environment.program(named: "web"))
        for index in 0..<fleet.hosts {
            let port = environment.hosts[index].processPorts(of: web, in: .a)
            let greeting = try await fleet.get(index, path: "/env/HELLO_GREETING")
            #expect(greeting.status == 200)
            #expect(port.map { "hi from A on \($0)" }.contains(greeting.body), "\(greeting.body)")
            let secret = try await fleet.get(index, path: "/env/HELLO_SECRET")
            #expect(secret.body == "s3cret-value-42")
            let user = try await fleet.get(index, path: "/whoami")
            #expect(user.body.hasPrefix("\(Self.user) \(fleet.hostFolder(index))/srv/"), "\(user.body)")
        }
        // The secret stays on the host: nothing Pinwheel reports carries it.
        let everything = reports.map { report in
            "\(report.phases.flatMap { $0.outcomes.flatMap(\.output) }) \(report.error?.message ?? "")"
        }.joined()
        #expect(!everything.contains("s3cret"))
    }

    @Test func aSettingsChangeRestartsWithoutReinstallingAndDrainsARequestInFlight() async throws {
        guard getpwnam(Self.user) != nil else {
            Issue.record("the user \(Self.user) does not exist: run scripts/setup")
            return
        }
        let (fleet, envFile) = try await startFleet()
        _ = try await fleet.apply()
        let environment = try fleet.environment()
        let web = try #require(environment.program(named: "web"))
        let idlePort = try #require(environment.hosts[0].processPorts(of: web, in: .b).first)
        let buildB = try FileManager.default.destinationOfSymbolicLink(atPath: "\(fleet.hostFolder(0))/srv/fleet/slots/B")

        try setSettings(fleet, greeting: "hello again from {slot}", envFile: envFile)
        // A long request to slot B's process on the first host, sent as the last batch starts (the serving slot A
        // restarts host by host, as each host switches): slot B is restarted (with the new greeting) in the idle
        // phase, after that batch, while the request is in flight.
        let slow = Mutex<Task<Shell.Output, any Error>?>(nil)
        let stages = Mutex<[String]>([])
        let reports = try await fleet.apply { event in
            if case let .started(.route(hosts, stage)) = event { stages.withLock { $0.append("\(stage.name) \(hosts.count)") } }
            guard case .started(.route(_, .batch(1))) = event else { return }
            slow.withLock { task in
                task = task ?? Task { try await Shell.run("curl", ["-s", "--max-time", "20", "http://127.0.0.1:\(idlePort)/slow?seconds=8"]) }
            }
        }
        #expect(reports.allSatisfy { $0.outcome == .changed }, "\(reports.map { $0.error?.message ?? "" })")
        // The serving slot was restarted at the policy's pace (canary 1, then a batch), never on both hosts at once.
        #expect(stages.withLock { $0 } == ["canary 1", "batch 1 1"])
        let answer = try await #require(slow.withLock { $0 }).value
        #expect(answer.standardOutput.hasPrefix("slow 1.0.0 done after 8.0s"), "\(answer.standardOutput)")
        let log = try String(contentsOfFile: "\(fleet.hostFolder(0))/srv/fleet/logs/hello-web-B_\(idlePort).log", encoding: .utf8)
        #expect(log.contains("stopping (signal 2), draining 1 request(s)"), "\(log)")
        // Same build, new settings: no reinstall.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(fleet.hostFolder(0))/srv/fleet/slots/B") == buildB)
        let outputs = reports[0].phases.flatMap { $0.outcomes.flatMap(\.output) }
        #expect(outputs.contains { $0.contains("only program settings changed") }, "\(outputs)")
        #expect(!outputs.contains { $0.contains("built") && $0.contains("with uv") }, "\(outputs)")
        let greeting = try await fleet.get(0, path: "/env/HELLO_GREETING")
        #expect(greeting.body == "hello again from A")
    }

    @Test func aMissingEnvFileFailsThePrepareAndTheOldSlotKeepsServing() async throws {
        guard getpwnam(Self.user) != nil else {
            Issue.record("the user \(Self.user) does not exist: run scripts/setup")
            return
        }
        let (fleet, envFile) = try await startFleet()
        _ = try await fleet.apply()
        try setSettings(fleet, greeting: "never seen", envFile: envFile + ".missing")
        let reports = try await fleet.apply()
        // The canary's serving slot cannot restart with the settings: the rollout halts there, and no other host's
        // serving slot is touched.
        #expect(reports[0].outcome == .failed)
        let failed = reports[0].phases.flatMap(\.outcomes).first { !$0.ok }
        #expect(failed?.code == .envFile, "\(failed?.error ?? "")")
        #expect(reports[0].error?.code == .envFile && reports[0].error?.step == failed?.step.description)
        for report in reports.dropFirst() {
            #expect(report.phases.isEmpty, "\(report.host) was touched after the canary failed")
        }
        for index in 0..<fleet.hosts {
            let greeting = try await fleet.get(index, path: "/env/HELLO_GREETING")
            #expect(greeting.body.hasPrefix("hi from A on "), "\(greeting.body)")
        }
    }
}
