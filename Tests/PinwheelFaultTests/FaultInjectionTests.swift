import Foundation
import PinwheelController
import PinwheelCore
import PinwheelFleet
import PinwheelGit
import PinwheelTestSupport
import Synchronization
import Testing

/// What real fleets do to a rollout, done to a real loopback fleet. Each test keeps one invariant: no host ever
/// serves an unhealthy or half-built slot, nothing is lost, the report says what happened, and the fleet converges
/// once the fault is gone.
///
/// Faults covered elsewhere, each against the same invariant: the controller SIGKILLed mid-rollout and restarted
/// (`WatchProcessTests`), the git remote moved away and back, an invalid config commit, a broken release halted
/// and reverted, a concurrent writer of the status branch (`ControllerTests`), and remotes that accept
/// connections and never answer over http, https and ssh (`NetworkTests`).
@Suite("Fault injection", .serialized, .tags(.fleet))
struct FaultInjectionTests {
    static let first = 221

    func startFleet(hosts: Int = 3, maxFailures: Int = 0) async throws -> TestFleet {
        let fleet = try await TestFleet.start(hosts: hosts, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: \(maxFailures), onFailure: halt}
            health: {retries: 40, interval: 250ms}
            drift: heal

            """)
        return fleet
    }

    func release(_ fleet: TestFleet, _ version: String) throws {
        try fleet.setPins(.b, "hello-service==\(version)")
        try fleet.setActive(.b)
    }

    /// The invariant: every host (or those named) answers through nginx with 200 from a complete build — the slot
    /// nginx routes to has its manifest — serving `version`.
    func expectEveryHostServesACompleteSlot(_ fleet: TestFleet, version: String, hosts indexes: [Int]? = nil,
                                            sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        let indexes = indexes ?? Array(0..<fleet.hosts)
        _ = try await fleet.waitUntilServing("hello-service \(version)", hosts: indexes)
        for index in indexes {
            let answer = try await fleet.get(index)
            #expect(answer.status == 200, "\(fleet.name(index)) answers", sourceLocation: sourceLocation)
            #expect(answer.body.hasPrefix("hello-service \(version)"), "\(fleet.name(index)): \(answer.body)",
                    sourceLocation: sourceLocation)
            let slot = answer.slot ?? "?"
            let manifest = "\(fleet.hostFolder(index))/srv/\(fleet.environmentName)/slots/\(slot)/manifest.json"
            #expect(FileManager.default.fileExists(atPath: manifest), "\(fleet.name(index)) serves slot \(slot), a complete build",
                    sourceLocation: sourceLocation)
        }
    }

    func expectConverges(_ fleet: TestFleet, version: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        let report = try await fleet.reconciler().reconcile()
        #expect(report.outcome.result == .converged, "\(report.outcome.message)", sourceLocation: sourceLocation)
        try await expectEveryHostServesACompleteSlot(fleet, version: version, sourceLocation: sourceLocation)
    }

    // MARK: Traffic

    @Test func requestsThroughEveryHostNeverFailDuringAReleaseAndARollback() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        let client = fleet.startClientLoop()
        try await Task.sleep(for: .milliseconds(300))
        try release(fleet, "1.1.0")
        let released = try await fleet.reconciler().reconcile()
        try fleet.setActive(.a)
        let rolledBack = try await fleet.reconciler().reconcile()
        try await Task.sleep(for: .milliseconds(300))
        let traffic = try await client.stop()
        #expect(released.outcome.result == .converged && rolledBack.outcome.result == .converged)
        #expect(traffic.failed == 0, "\(traffic.errors.prefix(5))")
        #expect(traffic.ok > 20)
        #expect(Set(traffic.bodies) == ["hello-service 1.0.0", "hello-service 1.1.0"])
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.0.0")
    }

    // MARK: SSH

    @Test func aHostWhoseSSHDIsDownIsReportedAndHealsByDrift() async throws {
        let fleet = try await startFleet()
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let controller = Controller(
            configuration: ControllerConfiguration(
                repository: config.remote, interval: .milliseconds(200), driftInterval: .seconds(3600),
                cacheDirectory: "\(fleet.directory)/cache", controlDirectory: "\(fleet.directory)/cm",
                allowedIdentityFolders: [fleet.directory]),
            logger: CapturedLogs().logger())
        func status() throws -> EnvironmentStatus? {
            try config.status(of: fleet.environmentName)
        }
        await controller.poll()
        await controller.settle()

        try await fleet.stopHost(1)
        try release(fleet, "1.1.0")
        try await config.commitAndPush("fleet: release 1.1.0 while web-02 is down")
        await controller.poll()
        await controller.settle()
        let degraded = try #require(try status())
        #expect(degraded.result == .degraded)
        #expect(degraded.hosts[fleet.name(1)]?.reason?.code == "unreachable", "\(degraded.hosts)")
        #expect(degraded.reason == "unreachable" && degraded.cause?.message?.hasPrefix(fleet.name(1)) == true, "\(String(describing: degraded.cause))")
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.1.0", hosts: [0, 2])
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.0.0", hosts: [1])

        try await fleet.startHost(1)
        await controller.checkDrift()
        await controller.settle()
        #expect(try status()?.result == .converged)
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.1.0")
    }

    @Test func sshdKilledDuringPrepareIsReportedAndLeavesTheHostServing() async throws {
        let fleet = try await startFleet(hosts: 2)
        _ = try await fleet.apply()
        try release(fleet, "1.1.0")
        let preparing = Mutex(false)
        let reconciler = try fleet.reconciler { event in
            if case .started(.prepare) = event { preparing.withLock { $0 = true } }
        }
        let started = ContinuousClock.now
        let run = Task { await reconciler.reconcile() }
        while !preparing.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(200))
        try await fleet.stopHost(0)
        let report = await run.value
        #expect(ContinuousClock.now - started < .seconds(120), "bounded by the transport's timeouts")
        // The host's own fault, not the release's: under maxFailures 0 the other host still gets the release.
        #expect(report.outcome.result == .degraded, "\(report.outcome.message)")
        #expect(report.outcome.failures[fleet.name(0)]?.code.blame == .host, "the report names the host: \(report.outcome.failures)")
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.0.0", hosts: [0])
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.1.0", hosts: [1])

        try await fleet.startHost(0)
        try await expectConverges(fleet, version: "1.1.0")
    }

    /// A run cut short after a slot's link moved to its new build and before supervisord loaded the new section
    /// leaves the old processes RUNNING and healthy. Their start times give them away: the next apply restarts them.
    @Test func processesOlderThanTheirBuildAreRestarted() async throws {
        let fleet = try await startFleet(hosts: 2)
        _ = try await fleet.apply()
        // Host 0's slot B says it was built just now, after its processes started: what an agent killed between
        // moving the link and loading the new section leaves behind.
        let path = "\(fleet.hostFolder(0))/srv/fleet/slots/B/manifest.json"
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let boot = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let uptime = try #require(Double(try String(contentsOfFile: "/proc/uptime", encoding: .utf8).split(separator: " ")[0]))
        manifest["builtAt"] = ["boot": boot, "uptime": uptime]
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: path))

        let plans = try await fleet.reconciler().plan()
        #expect(plans[0].plan?.idle == [.start(.b), .check(.b)], "\(plans[0].plan.map(String.init(describing:)) ?? "")")
        #expect(plans[0].before?.slots[.b].problems.contains { $0.contains("runs a build older than the slot's") } == true)
        #expect(plans[1].plan?.isEmpty == true)
        let reports = try await fleet.apply()
        let outcomes = reports[0].phases.flatMap(\.outcomes)
        #expect(outcomes.contains { $0.step == .start(.b) && $0.ok && $0.changed }, "slot B's processes restarted: \(outcomes.map(\.step))")
        #expect(reports.allSatisfy { $0.outcome != .failed }, "\(reports.map { $0.error?.message ?? "" })")
        #expect(try await fleet.reconciler().plan().allSatisfy { $0.plan?.isEmpty == true })
    }

    @Test func aFrozenSSHDIsBoundedByTimeoutsAndTheOthersConverge() async throws {
        let fleet = try await startFleet(hosts: 2, maxFailures: 1)
        _ = try await fleet.apply()
        try await fleet.freezeHost(0)
        try release(fleet, "1.1.0")
        let started = ContinuousClock.now
        let report = try await fleet.reconciler().reconcile()
        try await fleet.thawHost(0)
        #expect(ContinuousClock.now - started < .seconds(90), "never a hang")
        let frozen = try #require(report.hosts.first { $0.host == fleet.name(0) })
        #expect(frozen.outcome == .unreachable || frozen.outcome == .failed, "\(frozen.error?.message ?? "")")
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.1.0", hosts: [1])
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.0.0", hosts: [0])
        try await expectConverges(fleet, version: "1.1.0")
    }

    // MARK: Releases

    @Test func aVersionMissingFromTheIndexSwitchesNothing() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        try release(fleet, "7.7.7")
        let report = try await fleet.reconciler().reconcile()
        #expect(report.outcome.result == .halted)
        for host in report.hosts {
            #expect(host.error?.code == .install && host.error?.step == "prepare B", "\(String(describing: host.error))")
            #expect(!host.phases.flatMap(\.requested).contains(.route(.b)), "nothing switched to the broken slot")
        }
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.0.0")
        try release(fleet, "1.1.0")
        try await expectConverges(fleet, version: "1.1.0")
    }

    // MARK: nginx

    @Test func aBrokenNginxConfigRefusesTheSwitchAndTheHostKeepsServing() async throws {
        // maxFailures 0: a host's own broken nginx is not the release's fault, so the others still get it.
        let fleet = try await startFleet(maxFailures: 0)
        _ = try await fleet.apply()
        let nginxConf = "\(fleet.hostFolder(0))/nginx/nginx.conf"
        let good = try String(contentsOfFile: nginxConf, encoding: .utf8)
        try Data((good + "\nthis is not an nginx directive;\n").utf8).write(to: URL(fileURLWithPath: nginxConf))
        let upstream = "\(fleet.hostFolder(0))/nginx/pinwheel/hello.conf"
        let before = try String(contentsOfFile: upstream, encoding: .utf8)

        try release(fleet, "1.1.0")
        let report = try await fleet.reconciler().reconcile()
        #expect(report.outcome.result == .degraded, "\(report.outcome.message)")
        let broken = try #require(report.hosts.first { $0.host == fleet.name(0) })
        let failed = broken.phases.flatMap(\.outcomes).first { !$0.ok }
        #expect(failed?.step == .route(.b))
        #expect(failed?.code == .nginxTest, "\(failed?.error ?? "")")
        #expect(report.outcome.failures[fleet.name(0)]?.code == .nginxTest)
        #expect(try String(contentsOfFile: upstream, encoding: .utf8) == before, "the previous upstream file is back")
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.0.0", hosts: [0])
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.1.0", hosts: [1, 2])

        try Data(good.utf8).write(to: URL(fileURLWithPath: nginxConf))
        try await expectConverges(fleet, version: "1.1.0")
    }

    // MARK: Concurrency

    @Test func twoAppliesAtOnceAreSerializedByTheHostLock() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        try release(fleet, "1.1.0")
        let first = try fleet.reconciler()
        let second = try fleet.reconciler()
        async let one = first.reconcile()
        async let two = second.reconcile()
        let results = await [one, two]
        for report in results {
            #expect(report.outcome.result != .halted, "\(report.outcome.message)")
            for host in report.hosts {
                #expect(host.error == nil, "\(host.host): \(host.error?.message ?? "")")
            }
        }
        try await expectEveryHostServesACompleteSlot(fleet, version: "1.1.0")
        let after = try await fleet.reconciler().reconcile()
        #expect(after.hosts.allSatisfy { $0.outcome == .converged }, "a third apply finds nothing to do")
    }
}
