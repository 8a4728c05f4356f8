import Testing
@testable import PinwheelCore

/// `{address}` in a program's command: each host runs it with its own address, so an app listens where a scraper
/// reaches it (Prometheus, through the controller's service discovery) without listening on every interface.
@Suite("The {address} placeholder")
struct AddressPlaceholderTests {
    static func environment(command: String) throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(
            of: "command: hello-service --port {port}", with: "command: \(command)")
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func eachHostRunsTheCommandWithItsOwnAddress() throws {
        let environment = try Self.environment(command: "hello-service --host {address} --port {port}")
        let commands = environment.hosts.map { host in
            environment.slotSpec(.a, on: host).programs.first { $0.name == "web" }?.command
        }
        #expect(commands == environment.hosts.map { "hello-service --host \($0.address) --port {port}" })
        #expect(Set(commands).count == environment.hosts.count)
    }

    @Test func aLocalHostListensOnLoopback() {
        let program = Program(name: "web", command: "app --bind {address}:{port}", processes: 1, ports: nil, health: nil,
                              settings: ProgramSettings())
        let host = FleetHost(name: "here", address: "local", settings: HostSettings(nginx: NginxSettings(upstream: "/etc/nginx/pinwheel/app.conf")))
        #expect(program.command(on: host) == "app --bind 127.0.0.1:{port}")
    }

    @Test func aCommandWithoutItIsSentAsWritten() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let host = environment.hosts[0]
        let web = try #require(environment.programs.first { $0.name == "web" })
        #expect(web.command(on: host) == web.command)
    }

    @Test func aMisspeltPlaceholderIsAnErrorThatNamesBoth() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(
            of: "command: hello-service --port {port}", with: "command: hello-service --host {adress} --port {port}")
        let report = try Fixture.load(files)
        let message = try #require(report.diagnostics.first { $0.severity == .error }?.description)
        #expect(message.contains("unknown placeholder `{adress}`") && message.contains("did you mean `address`?"), "\(message)")
    }
}
