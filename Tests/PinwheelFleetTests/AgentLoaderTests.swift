import Foundation
import PinwheelCore
import PinwheelProcess
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelFleet

/// The agent's source (75 KB) travels only to a host that has not kept this version of it: every other round trip
/// carries the request and a small loader. Run on this machine's Python, as `address: local` runs.
@Suite("Agent loader")
final class AgentLoaderTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder("loader")
    }

    /// Runs scripts as `LocalTransport` does and keeps each one it was given.
    final class RecordingTransport: Transport {
        let scripts = Mutex<[String]>([])
        let local = LocalTransport()

        func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
            scripts.withLock { $0.append(script.text) }
            return try await local.run(python: python, script: script, timeout: timeout)
        }

        func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
            scripts.withLock { $0.append(script.text) }
            return try await local.stream(python: python, script: script, line: line)
        }

        func interactive(python: String, script: ProcessInput) async throws -> Int32 {
            scripts.withLock { $0.append(script.text) }
            return try await local.interactive(python: python, script: script)
        }
    }

    func target(root: String) -> HostTarget {
        let settings = HostSettings(
            user: "root", port: 22, root: root,
            supervisor: SupervisorSettings(include: root + "/conf.d", ctl: "supervisorctl -c /nonexistent/supervisord.conf"),
            nginx: NginxSettings(upstream: root + "/upstream.conf", test: "nginx -t -c /nonexistent/nginx.conf",
                                 reload: "nginx -s reload -c /nonexistent/nginx.conf", check: "http://127.0.0.1:1/")
        )
        let program = Program(name: "web", command: "hello-service --port {port}", processes: 1,
                              ports: PerSlot(a: 18999, b: 18998), health: HealthCheck(path: "/healthz"))
        let pins = SlotPins(file: "A.txt", pins: [Pin(name: "hello-service", version: "1.0.0")])
        let environment = Environment(
            name: "production", app: "hello", python: "/usr/bin/python3", source: .index("http://127.0.0.1:1/simple/"),
            active: .a, slots: PerSlot(a: pins, b: pins), programs: [program], policy: Policy(name: "p"),
            hosts: [FleetHost(name: "web-1", address: "local", settings: settings)])
        return environment.target(for: environment.hosts[0])
    }

    @Test func theSourceTravelsOnceAndTheHostKeepsItCompiled() async throws {
        let root = folder.path("srv")
        let transport = RecordingTransport()
        let agent = HostAgent(target: target(root: root), python: "/usr/bin/python3", transport: transport, commit: nil)

        let first = try await agent.observe()
        #expect(first.slots.a.manifest == nil && !first.slots.a.healthy, "the agent observed a host with nothing prepared")
        var scripts = transport.scripts.withLock { $0 }
        #expect(scripts.count == 2, "a host without this agent is asked again, with it")
        #expect(!scripts[0].contains(AgentScript.encodedSource) && scripts[1].contains(AgentScript.encodedSource))
        let kept = try FileManager.default.contentsOfDirectory(atPath: root + "/.pinwheel")
        #expect(kept.contains { $0.hasPrefix("agent-\(AgentScript.digest)-") && $0.hasSuffix(".bin") })

        _ = try await agent.observe()
        scripts = transport.scripts.withLock { $0 }
        #expect(scripts.count == 3, "one round trip once the host has the agent")
        #expect(!scripts[2].contains(AgentScript.encodedSource))
        #expect(scripts[2].utf8.count < 16_000, "the loader and the request only: \(scripts[2].utf8.count) bytes")
    }

    @Test func aKeptAgentThatCannotBeReadIsSentAgain() async throws {
        let root = folder.path("srv")
        let transport = RecordingTransport()
        let agent = HostAgent(target: target(root: root), python: "/usr/bin/python3", transport: transport, commit: nil)
        _ = try await agent.observe()
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/.pinwheel") where name.hasPrefix("agent-") {
            try Data("not marshal data".utf8).write(to: URL(fileURLWithPath: root + "/.pinwheel/" + name))
        }
        _ = try await agent.observe()
        let scripts = transport.scripts.withLock { $0 }
        #expect(scripts.count == 4)
        #expect(scripts[3].contains(AgentScript.encodedSource), "a corrupt compiled agent is replaced, not run")
    }

    /// Every host's program shares one copy of the agent's source: a part of its own, `AgentScript.encodedSource`'s
    /// own storage, between the loader's two halves; the host reads the parts as one text.
    @Test func theSourceIsOnePartEveryHostShares() throws {
        let request = AgentRequest(.observe, target: target(root: folder.path), commit: nil)
        let script = try request.script(.withSource)
        #expect(script.parts.count == 3)
        #expect(script.parts[0].hasSuffix("\nSOURCE = \"") && script.parts[2].hasPrefix("\"\ndef owned("))
        let storage = script.parts[1].utf8.withContiguousStorageIfAvailable { $0.baseAddress }
        #expect(storage != nil && storage == AgentScript.encodedSource.utf8.withContiguousStorageIfAvailable { $0.baseAddress })
        #expect(try request.script(.cached).text.contains("\nSOURCE = \"\"\ndef owned("))
    }

    /// The input file holds the parts one after another, as the joined text would.
    @Test func theInputFileHoldsThePartsInOrder() throws {
        let input = ProcessInput(parts: ["a = \"", String(repeating: "é", count: 70_000), "\"\n", ""])
        let file = FileHandle(fileDescriptor: try ProcessRunner.inputFile(input).rawValue, closeOnDealloc: true)
        #expect(try file.readToEnd() == Data(input.text.utf8))
    }

    @Test func theInteractiveLoaderExplainsAHostWithoutTheAgent() throws {
        let script = try AgentRequest(.observe, target: target(root: folder.path), commit: nil).script(.cachedOnly).text
        #expect(!script.contains(AgentScript.encodedSource))
        #expect(script.contains("run `pinwheel plan` and try again"))
    }
}
