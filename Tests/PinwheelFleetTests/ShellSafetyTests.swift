import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// Config values never run as code on a host. The validator refuses shell syntax in every value that reaches a
/// host; these tests go further and hand the agent and the SSH transport hostile values directly, bypassing the
/// validator, to prove that nothing is ever interpreted by a shell.
@Suite("Shell safety")
final class ShellSafetyTests {
    let directory: URL
    var marker: String { directory.appendingPathComponent("pwned").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-inject-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// An environment whose every value tries to run `touch <marker>`.
    func hostileEnvironment() -> Environment {
        let payload = "$(touch \(marker));`touch \(marker)`;touch \(marker)"
        let root = directory.appendingPathComponent("root $(touch \(marker))").path
        let settings = HostSettings(
            user: "root", port: 22, root: root,
            supervisor: SupervisorSettings(include: root + "/conf;touch \(marker)", ctl: "supervisorctl -c /nonexistent/supervisord.conf"),
            nginx: NginxSettings(upstream: root + "/up`touch \(marker)`.conf", test: "nginx -t -c /nonexistent/nginx.conf",
                                 reload: "nginx -s reload -c /nonexistent/nginx.conf", check: "http://127.0.0.1:1/$(touch \(marker))")
        )
        let host = FleetHost(name: "web;touch \(marker)", address: "local", settings: settings)
        let program = Program(name: "web$(touch \(marker))", command: "hello-service --port {port} \(payload)", processes: 1,
                              ports: PerSlot(a: 18999, b: 18998), health: HealthCheck(path: "/h$(touch \(marker))"))
        let pins = SlotPins(file: "A.txt", pins: [Pin(name: "x$(touch \(marker))", version: "1;touch \(marker)")])
        return Environment(
            name: "env;touch \(marker)", app: "app$(touch \(marker))", python: "/usr/bin/python3",
            source: .index("http://127.0.0.1:1/simple/$(touch \(marker))"), active: .a,
            slots: PerSlot(a: pins, b: pins), programs: [program], policy: Policy(name: "p", health: .init(retries: 1, interval: .init(milliseconds: 100))),
            hosts: [host])
    }

    @Test func theAgentNeverHandsConfigValuesToAShell() async throws {
        let environment = hostileEnvironment()
        let agent = HostAgent(target: environment.target(for: environment.hosts[0]), python: environment.python, transport: LocalTransport(),
                              commit: "$(touch \(marker))")
        _ = try await agent.observe()
        let result = await agent.execute([.prepare(.a), .start(.a), .check(.a), .route(.a), .prepare(.b)])
        #expect(!result.ok, "installing a package that does not exist fails")
        #expect(!FileManager.default.fileExists(atPath: marker), "a config value ran as a command")
    }

    /// From a slot that is already prepared (its build is reused, nothing is installed), every step reaches the code
    /// that writes supervisord's and nginx's files and runs the commands that are commands by design, with every
    /// other value hostile.
    @Test func everyStepHandlesHostileValuesWithoutAShell() async throws {
        let environment = hostileEnvironment()
        let target = environment.target(for: environment.hosts[0])
        let slot = target.slots.a
        let build = "\(target.settings.root)/\(environment.name)/slots/A-\(slot.fingerprint)"
        try FileManager.default.createDirectory(atPath: build + "/venv/bin", withIntermediateDirectories: true)
        try Data("{\"fingerprint\": \"\(slot.fingerprint)\", \"pins\": []}\n".utf8)
            .write(to: URL(fileURLWithPath: build + "/manifest.json"))
        try FileManager.default.createDirectory(atPath: target.settings.supervisor.include, withIntermediateDirectories: true)
        let agent = HostAgent(target: target, python: environment.python, transport: LocalTransport(), commit: "$(touch \(marker))")
        var reached: [HostPlan.Step] = []
        for step in [HostPlan.Step.prepare(.a), .start(.a), .check(.a), .route(.a), .verify(.a)] {
            let result = await agent.execute([step])
            reached += result.outcomes.map(\.step)
        }
        #expect(reached == [.prepare(.a), .start(.a), .check(.a), .route(.a), .verify(.a)], "each step ran on the host")
        let conf = try String(contentsOfFile: "\(target.settings.supervisor.include)/\(environment.app)-\(environment.name)-A.conf", encoding: .utf8)
        #expect(conf.contains("[program:"), "the supervisord config was written with the hostile names in it")
        #expect(!FileManager.default.fileExists(atPath: marker), "a config value ran as a command")
    }

    @Test func anAddressCannotBecomeAnSSHOption() async throws {
        var host = hostileEnvironment().hosts[0]
        host.address = "-oProxyCommand=touch \(marker)"
        host.settings.user = "-oProxyCommand=touch \(marker)"
        let transport = SSHTransport(host: host, knownHostsFile: "/dev/null", controlDirectory: directory.path, connectTimeout: 2)
        let arguments = transport.arguments(python: "/usr/bin/python3")
        let separator = try #require(arguments.firstIndex(of: "--"))
        #expect(arguments[separator + 1] == host.address, "the address comes after `--`, where it cannot be an option")
        await #expect(throws: FleetError.self) {
            _ = try await transport.run(python: "/usr/bin/python3", script: "print(1)", timeout: .seconds(10))
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func theRemoteCommandQuotesTheInterpreter() {
        #expect(SSHTransport.quote("/usr/bin/python3") == "'/usr/bin/python3'")
        #expect(SSHTransport.quote("/a'b") == "'/a'\\''b'")
    }

    @Test func requestsReachTheHostAsBase64() throws {
        let environment = hostileEnvironment()
        let script = try AgentRequest(.observe, target: environment.target(for: environment.hosts[0]), commit: nil).script().text
        #expect(script.contains("REQUEST = \""))
        #expect(!script.contains("touch"), "no config text appears in the program itself")
    }
}
