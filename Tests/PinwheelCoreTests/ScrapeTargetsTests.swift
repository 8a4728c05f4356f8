import Testing
@testable import PinwheelCore

/// What Prometheus's HTTP service discovery gets for an environment: every web process of both slots on every host,
/// labelled with what the analysis queries select on.
@Suite("Prometheus service discovery")
struct ScrapeTargetsTests {
    func environment() throws -> Environment {
        let report = try Fixture.load()
        #expect(!report.hasErrors, "\(report.diagnostics)")
        return try #require(report.environments["prod"])
    }

    func status(serving: [String: Slot]) -> EnvironmentStatus {
        var hosts: [String: EnvironmentStatus.HostStatus] = [:]
        for (host, slot) in serving {
            hosts[host] = .init(serving: slot, slots: ["A": ["hello-service==1.0.0", "click==8.1.7"], "B": ["hello-service==1.1.0", "click==8.1.7"]],
                                healthy: true)
        }
        return EnvironmentStatus(environment: "prod", desired: "c0ffee", result: .converged, message: "", time: "", active: .a,
                                 pins: [], hosts: hosts)
    }

    @Test func everyWebProcessOfBothSlotsIsATargetWithItsLabels() throws {
        let groups = ScrapeTargets.groups(of: try environment(), commit: "c0ffee", status: status(serving: ["web-01": .a, "web-02": .b]))
        #expect(groups.count == 4, "two hosts, one web program, two slots; the worker has no port")
        let web01B = try #require(groups.first { $0.labels["host"] == "web-01" && $0.labels["slot"] == "B" })
        #expect(web01B.targets == ["10.0.0.11:8200", "10.0.0.11:8201"], "one target per process")
        #expect(web01B.labels == [
            "environment": "prod", "host": "web-01", "slot": "B", "program": "web", "version": "1.1.0", "commit": "c0ffee",
            "routed": "false", "__metrics_path__": "/metrics",
        ])
        #expect(groups.first { $0.labels["host"] == "web-01" && $0.labels["slot"] == "A" }?.labels["routed"] == "true")
        #expect(groups.first { $0.labels["host"] == "web-02" && $0.labels["slot"] == "B" }?.labels["routed"] == "true")
        #expect(groups.first { $0.labels["host"] == "web-02" && $0.labels["slot"] == "A" }?.labels["version"] == "1.0.0")
    }

    @Test func withoutAStatusTheDesiredPinsNameTheVersionsAndNothingIsRouted() throws {
        let groups = ScrapeTargets.groups(of: try environment(), commit: "c0ffee", status: nil)
        #expect(groups.allSatisfy { $0.labels["routed"] == "false" })
        #expect(Set(groups.filter { $0.labels["slot"] == "B" }.compactMap { $0.labels["version"] }) == ["1.1.0"])
    }

    @Test func aLocalHostIsLoopbackAndIPv6IsBracketed() {
        let local = FleetHost(name: "l", address: "local", settings: HostSettings(nginx: NginxSettings(upstream: "/etc/nginx/pinwheel/hello.conf")))
        let v6 = FleetHost(name: "six", address: "fd00::5", settings: HostSettings(nginx: NginxSettings(upstream: "/etc/nginx/pinwheel/hello.conf")))
        #expect(ScrapeTargets.address(of: local, port: 8100) == "127.0.0.1:8100")
        #expect(ScrapeTargets.address(of: v6, port: 8100) == "[fd00::5]:8100")
    }

    @Test func theVersionIsTheAppsPinOrTheFirst() {
        #expect(ScrapeTargets.version(in: ["click==8.1.7", "Hello_Service==2.0.0"], app: "hello-service") == "2.0.0")
        #expect(ScrapeTargets.version(in: ["hello-service==1.1.0 ; python_version >= '3.8'"], app: "hello") == "1.1.0")
        #expect(ScrapeTargets.version(in: ["click==8.1.7", "hello-service==1.1.0"], app: "hello") == "1.1.0", "named after the app")
        #expect(ScrapeTargets.version(in: [], app: "hello") == "")
    }
}
