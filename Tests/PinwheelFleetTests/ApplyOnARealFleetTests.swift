import Foundation
import PinwheelCore
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelFleet
import PinwheelEngine

/// `apply` against a real loopback fleet: sshd, supervisord, nginx, a package index, real virtualenvs.
@Suite("Apply on a real fleet", .serialized, .tags(.fleet))
struct ApplyOnARealFleetTests {
    static let first = 101

    func startFleet(hosts: Int = 3, uv: Bool = true) async throws -> TestFleet {
        try await TestFleet.start(hosts: hosts, first: Self.first, uv: uv)
    }

    func outcomes(_ reports: [HostReport]) -> [String] {
        reports.map { "\($0.host) \($0.outcome.rawValue)" }
    }

    @Test func aFreshFleetServesThePinnedVersion() async throws {
        let fleet = try await startFleet()
        let reports = try await fleet.apply()
        #expect(reports.allSatisfy { $0.outcome == .changed }, "\(reports.map { $0.error?.message ?? "" })")
        // By the policy: every host prepares its active slot, then switches to it (canary first, then batches), and
        // only then prepares its idle slot.
        for report in reports {
            #expect(report.phases.map(\.requested) == [[.prepare(.a), .start(.a), .check(.a)], [.route(.a), .check(.a)],
                                                        [.prepare(.b), .start(.b), .check(.b)]])
        }
        // nginx reloads gracefully: its old worker (which had nothing to serve) may answer for a moment.
        _ = try await fleet.waitUntilServing("hello-service 1.0.0")
        for index in 0..<fleet.hosts {
            let answer = try await fleet.get(index)
            #expect(answer.status == 200)
            #expect(answer.body.hasPrefix("hello-service 1.0.0 on "))
            #expect(answer.slot == "A")
            let manifest = try String(contentsOfFile: "\(fleet.hostFolder(index))/srv/fleet/slots/A/manifest.json", encoding: .utf8)
            #expect(manifest.contains("hello-service==1.0.0"))
            #expect(manifest.contains("\"installer\" : \"uv\"") || manifest.contains("\"installer\": \"uv\""))
        }
        // Both slots run: B is warm for an instant switch.
        let status = try await Shell.run("supervisorctl", ["-c", "\(fleet.hostFolder(0))/supervisor/supervisord.conf", "status"])
        #expect(status.standardOutput.components(separatedBy: "RUNNING").count - 1 == 6, "\(status.standardOutput)")
    }

    /// `apply` honours the policy exactly as `watch` does: the same engine decides.
    @Test func applySwitchesTheCanaryThenOneHostAtATimeWithPauses() async throws {
        let fleet = try await startFleet()
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 1, pause: 2s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}

            """)
        struct Started: Sendable {
            var action: RolloutMachine.Action
            var at: ContinuousClock.Instant
        }
        let started = Mutex<[Started]>([])
        let report = try await fleet.reconciler { event in
            if case let .started(action) = event { started.withLock { $0.append(Started(action: action, at: .now)) } }
        }.reconcile()
        #expect(report.outcome.result == .converged, "\(report.outcome.message)")
        let actions = started.withLock { $0 }
        let names = (0..<fleet.hosts).map(fleet.name)
        #expect(actions.map(\.action) == [
            .observe(names, switchingTo: .a),
            .prepare(names),
            .route([names[0]], stage: .canary),
            .pause(.seconds(2)),
            .route([names[1]], stage: .batch(1)),
            .pause(.seconds(2)),
            .route([names[2]], stage: .batch(2)),
            .prepareIdle(names),
        ])
        // Each batch waits out the pause after the one before it.
        let switches = actions.filter { if case .route = $0.action { return true } else { return false } }
        for (earlier, later) in zip(switches, switches.dropFirst()) {
            #expect(later.at - earlier.at >= .seconds(2))
        }
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.hasPrefix("hello-service 1.0.0") })
    }

    @Test func aReleaseSwitchesEveryHostWithNoFailedRequest() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        let client = fleet.startClientLoop()
        try await Task.sleep(for: .milliseconds(300))
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let reports = try await fleet.apply()
        try await Task.sleep(for: .milliseconds(300))
        let traffic = try await client.stop()
        #expect(outcomes(reports) == (0..<fleet.hosts).map { "\(fleet.name($0)) changed" })
        #expect(traffic.failed == 0, "\(traffic.errors.prefix(5))")
        #expect(traffic.ok > 20)
        #expect(Set(traffic.bodies) == ["hello-service 1.0.0", "hello-service 1.1.0"])
        let bodies = try await fleet.waitUntilServing("hello-service 1.1.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.1.0") }, "\(bodies)")
        // The release installed only slot B; A kept its build and stays warm.
        for report in reports {
            #expect(report.phases.flatMap(\.outcomes).map(\.step) == [.prepare(.b), .start(.b), .check(.b), .route(.b), .check(.b)])
        }
    }

    @Test func aBrokenReleaseIsNeverSwitchedTo() async throws {
        let fleet = try await startFleet(hosts: 2)
        _ = try await fleet.apply()
        try fleet.setPins(.b, "hello-service==9.9.9")
        try fleet.setActive(.b)
        let reports = try await fleet.apply()
        for (index, report) in reports.enumerated() {
            #expect(report.outcome == .failed)
            let failure = try #require(report.error)
            #expect(failure.code == .health && failure.step == "check B", "\(failure)")
            // The diagnosis is the health answer; the program's own output is the detail, kept out of git.
            #expect(failure.message.contains("answered status 500, expected 200"), "\(failure.message)")
            #expect(!failure.message.contains("hello-service 9.9.9 listening"))
            #expect(failure.detail?.contains("hello-service 9.9.9 listening") == true, "the detail shows the host's own output")
            _ = index
            #expect(!report.phases.flatMap(\.outcomes).contains { $0.step == .route(.b) })
            let answer = try await fleet.get(index)
            #expect(answer.body.hasPrefix("hello-service 1.0.0"))
            #expect(answer.slot == "A")
        }
    }

    @Test func anUnreachableHostDoesNotStopTheOthers() async throws {
        let fleet = try await startFleet()
        try await fleet.stopHost(1)
        let reports = try await fleet.apply()
        #expect(outcomes(reports) == ["\(fleet.name(0)) changed", "\(fleet.name(1)) unreachable", "\(fleet.name(2)) changed"])
        let error = try #require(reports[1].error)
        #expect(error.code == .unreachable && error.step == nil)
        let bodies = try await fleet.waitUntilServing("hello-service 1.0.0", hosts: [0, 2])
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.0.0") }, "\(bodies)")
    }

    @Test func applyOnAConvergedFleetChangesNothing() async throws {
        let fleet = try await startFleet(hosts: 2)
        _ = try await fleet.apply()
        var before: [[String: String]] = []
        for index in 0..<fleet.hosts { before.append(try await fleet.snapshot(index)) }
        #expect(before[0].keys.contains { $0.hasSuffix("manifest.json") })
        #expect(before[0]["processes"]?.contains("RUNNING") == true)

        let reports = try await fleet.apply()
        #expect(reports.allSatisfy { $0.outcome == .converged })
        #expect(reports.allSatisfy { $0.phases.isEmpty })
        for index in 0..<fleet.hosts {
            let after = try await fleet.snapshot(index)
            #expect(after == before[index])
        }
    }

    @Test func aFailedInstallLeavesThePreviousSlotIntact() async throws {
        let fleet = try await startFleet(hosts: 2)
        _ = try await fleet.apply()
        let before = try await fleet.snapshot(0)
        try fleet.setPins(.b, "hello-service==7.7.7")
        try fleet.setActive(.b)
        let reports = try await fleet.apply()
        for report in reports {
            #expect(report.outcome == .failed)
            #expect(report.error?.code == .install && report.error?.step == "prepare B", "\(String(describing: report.error))")
        }
        let after = try await fleet.snapshot(0)
        #expect(after.filter { $0.key.contains("slots/B") || $0.key == "link B" } == before.filter { $0.key.contains("slots/B") || $0.key == "link B" })
        #expect(after["processes"] == before["processes"])
        #expect(try await fleet.get(0).body.hasPrefix("hello-service 1.0.0"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(fleet.hostFolder(0))/srv/fleet/slots")
        #expect(leftovers.filter { $0.hasPrefix("B-") }.count == 1, "the failed build is removed: \(leftovers)")
    }

    @Test func switchingBackToTheWarmSlotInstallsNothing() async throws {
        let fleet = try await startFleet(hosts: 2)
        _ = try await fleet.apply()
        // B was prepared (warm) but never served: switching to it is a first exposure, at the policy's pace.
        try fleet.setActive(.b)
        for report in try await fleet.apply() {
            #expect(report.outcome == .changed)
            #expect(report.phases.map(\.requested) == [[.route(.b), .check(.b)]])
        }
        // A served before: switching back to it is a rollback, done in the observing round trip itself.
        try fleet.setActive(.a)
        let reports = try await fleet.apply()
        for report in reports {
            #expect(report.outcome == .changed)
            #expect(report.phases.count == 1)
            #expect(report.phases.flatMap(\.outcomes).map(\.step) == [.verify(.a), .route(.a)])
        }
        let bodies = try await fleet.waitUntilServing("hello-service 1.0.0")
        for index in 0..<fleet.hosts {
            var slot = try await fleet.get(index).slot
            for _ in 0..<50 where slot != "A" {
                try await Task.sleep(for: .milliseconds(100))
                slot = try await fleet.get(index).slot
            }
            #expect(slot == "A", "\(bodies)")
        }
    }

    @Test func aRevertSwitchesEveryHostBeforeAnyInstall() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        _ = try await fleet.apply()
        _ = try await fleet.waitUntilServing("hello-service 1.1.0")

        // The revert of that release: A active again, B's pins back to what they were.
        try fleet.setPins(.b, "hello-service==1.0.0")
        try fleet.setActive(.a)
        let events = Mutex<[PhaseResult]>([])
        let reports = try await fleet.apply { event in
            if case let .phase(result, _) = event { events.withLock { $0.append(result) } }
        }
        #expect(reports.allSatisfy { $0.outcome == .changed })
        let phases = events.withLock { $0 }
        let kinds = phases.map { $0.requested.contains(.route(.a)) ? "switch" : "prepare" }
        #expect(kinds == Array(repeating: "switch", count: fleet.hosts) + Array(repeating: "prepare", count: fleet.hosts),
                "every host switches before any host prepares")
        #expect(phases.prefix(fleet.hosts).allSatisfy { $0.ok })
        let bodies = try await fleet.waitUntilServing("hello-service 1.0.0")
        #expect(bodies.allSatisfy { $0.hasPrefix("hello-service 1.0.0") })
    }

    @Test func pipIsUsedWhenTheHostHasNoUv() async throws {
        let fleet = try await startFleet(hosts: 1, uv: false)
        let reports = try await fleet.apply()
        #expect(reports.first?.outcome == .changed, "\(reports.first?.error?.message ?? "")")
        let manifest = try String(contentsOfFile: "\(fleet.hostFolder(0))/srv/fleet/slots/A/manifest.json", encoding: .utf8)
        #expect(manifest.contains("pip"))
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").first?.hasPrefix("hello-service 1.0.0") == true)
    }

    @Test func aWheelhouseOnTheHostWorksOffline() async throws {
        let fleet = try await startFleet(hosts: 1)
        try await Shell.script("package-index", ["down", "--dir", fleet.directory])
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "  index: http://127.0.0.1:\(fleet.indexPort)/simple/", with: "  wheelhouse: \(fleet.directory)/wheels")
        }
        let reports = try await fleet.apply()
        #expect(reports.first?.outcome == .changed, "\(reports.first?.error?.message ?? "")")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").first?.hasPrefix("hello-service 1.0.0") == true)
    }

    @Test func planChangesNothingAndSaysWhatApplyWouldDo() async throws {
        let fleet = try await startFleet(hosts: 1)
        let before = try await fleet.snapshot(0)
        let reports = try await fleet.reconciler().plan()
        #expect(reports.first?.plan?.steps.map(\.description) == ["prepare A", "start A", "check A", "switch to A", "prepare B", "start B", "check B"])
        #expect(try await fleet.snapshot(0) == before)
    }
}
