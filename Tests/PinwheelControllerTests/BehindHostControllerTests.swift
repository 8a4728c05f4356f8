import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelController

/// A host behind is not drift, also next to a host that drifted: under `drift: report` the drift check gives the
/// host that missed the release the release, leaves the drifted host alone and reports it, and the status it records
/// names both. On in-memory hosts.
@Suite("Controller: hosts behind among drifted ones")
struct BehindHostControllerTests {
    @Test func aHostBehindGetsTheReleaseWhileADriftedHostIsOnlyReported() async throws {
        let world = try await ControllerTests().world(hosts: 3, drift: "report")
        await world.pollAndSettle()
        let (behind, drifted) = (world.fleet.name(1), world.fleet.name(2))
        // web-02 is down during the release: it never receives it.
        world.fleet.host(1).takeDown()
        try world.fleet.setPins(.b, "hello-service==1.1.0")
        try world.fleet.setActive(.b)
        let release = try await world.config.commitAndPush("fleet: release hello-service 1.1.0")
        await world.pollAndSettle()
        let released = try #require(try world.status())
        #expect(released.result == .degraded)
        #expect(world.fleet.host(1).routed == .a)
        let recorded = try #require(released.hosts[drifted])
        #expect(recorded.serving == .b && recorded.healthy)

        // web-03 received the release and changed afterwards; web-02 comes back.
        world.fleet.host(2).stopProcesses(.b)
        world.fleet.host(1).bringUp()
        let mark = world.agents.exchanges.count
        await world.controller.checkDrift()
        await world.controller.settle()

        #expect(world.fleet.host(1).routed == .b, "the host that was down got the release")
        #expect(world.fleet.serves(["hello-service==1.1.0"], hosts: [1]))
        #expect(!world.fleet.host(2).slot(.b).running, "the drifted host was left as it is")
        let touched = world.agents.exchanges(since: mark).filter { $0.host == drifted }
        #expect(!touched.isEmpty && touched.allSatisfy { $0.action == "observe" }, "\(touched.map(\.action))")
        #expect(world.agents.exchanges(since: mark).contains { $0.host == behind && $0.action != "observe" })

        // The status names every host: web-02 now on the release, web-03 as it was last recorded, reported as drift.
        let status = try #require(try world.status())
        #expect(status.desired == release)
        #expect(Set(status.hosts.keys) == Set((0..<3).map(world.fleet.name)))
        #expect(status.hosts[behind]?.serving == .b && status.hosts[behind]?.healthy == true)
        #expect(status.hosts[behind]?.reason == nil)
        #expect(status.hosts[drifted] == recorded)
        #expect(status.hosts[world.fleet.name(0)]?.serving == .b)
        #expect(status.result == .degraded)
        #expect(status.message == "drift: \(drifted) no longer matches \(release.prefix(7))", "\(status.message)")
        #expect(try world.metrics.expectCounter("pinwheel_drift_detected_total", [("environment", "fleet")]).totalValue == 1,
                "only the drifted host is drift")

        // The next check finds nobody behind: it only reports the drift again, touching nothing.
        let quiet = world.agents.exchanges.count
        await world.controller.checkDrift()
        await world.controller.settle()
        #expect(world.agents.exchanges(since: quiet).allSatisfy { $0.action == "observe" })
        #expect(!world.fleet.host(2).slot(.b).running)
        #expect(try world.status()?.message == "drift: \(drifted) no longer matches \(release.prefix(7))")
    }
}
