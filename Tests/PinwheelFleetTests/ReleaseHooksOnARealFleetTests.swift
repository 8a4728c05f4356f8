import Foundation
import PinwheelCore
import PinwheelTestSupport
import Synchronization
import Testing
@testable import PinwheelFleet
import PinwheelEngine

/// Release hooks on a real loopback fleet, with the sample service's `hello-migrate` standing in for
/// `django-admin migrate`: it appends a line per run to a file, so the runs can be counted.
@Suite("Release hooks on a real fleet", .serialized, .tags(.fleet))
struct ReleaseHooksOnARealFleetTests {
    static let first = 12

    func startFleet() async throws -> TestFleet {
        try await TestFleet.start(hosts: 3, first: Self.first)
    }

    func setHooks(_ fleet: TestFleet, _ hooks: String) throws {
        try fleet.editEnvironment { text in
            let body = text.components(separatedBy: "\nhooks:\n").first ?? text
            return body.hasSuffix("\n") ? body + "hooks:\n" + hooks : body + "\nhooks:\n" + hooks
        }
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The actions a reconcile starts, in order.
    final class Started: Sendable {
        private let actions = Mutex<[RolloutMachine.Action]>([])
        var all: [RolloutMachine.Action] { actions.withLock { $0 } }

        func reconciler(_ fleet: TestFleet) throws -> EnvironmentReconciler {
            try fleet.reconciler { event in
                if case let .started(action) = event { self.actions.withLock { $0.append(action) } }
            }
        }
    }

    @Test func beforeSwitchRunsOnceBeforeTheFirstSwitchAndAfterSwitchOnceAfterTheLast() async throws {
        let fleet = try await startFleet()
        let before = "\(fleet.directory)/before.log"
        let after = "\(fleet.directory)/after.log"
        try setHooks(fleet, """
              beforeSwitch: hello-migrate --record \(before)
              afterSwitch: {command: hello-migrate --record \(after), timeout: 1m}

            """)
        let started = Started()
        let report = try await started.reconciler(fleet).reconcile()
        #expect(report.outcome.result == .converged, "\(report.outcome.message)")
        let names = (0..<fleet.hosts).map(fleet.name)
        #expect(started.all == [
            .observe(names, switchingTo: .a), .prepare(names), .hook(.beforeSwitch, host: names[0]),
            .route([names[0]], stage: .canary), .route([names[1], names[2]], stage: .batch(1)),
            .hook(.afterSwitch, host: names[0]), .prepareIdle(names),
        ])
        #expect(lines(before).map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == ["1.0.0 beforeSwitch A"])
        #expect(lines(after).map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == ["1.0.0 afterSwitch A"])
        // The hook's own words are in the report.
        let output = report.hosts[0].phases.flatMap { $0.outcomes.flatMap(\.output) }
        #expect(output.contains("beforeSwitch: hello-migrate 1.0.0: applying migrations"), "\(output)")

        // A release runs each once more, from the new slot; a rollback (back to the warm slot) runs neither.
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        #expect(try await fleet.reconciler().reconcile().outcome.result == .converged)
        #expect(lines(before).map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
            == ["1.0.0 beforeSwitch A", "1.1.0 beforeSwitch B"])
        #expect(lines(after).count == 2)
        try fleet.setActive(.a)
        #expect(try await fleet.reconciler().reconcile().outcome.result == .converged)
        #expect(lines(before).count == 2 && lines(after).count == 2)
        _ = try await fleet.waitUntilServing("hello-service 1.0.0")
    }

    @Test func aFailingBeforeSwitchHaltsBeforeAnyHostSwitches() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        try setHooks(fleet, "  beforeSwitch: {command: hello-migrate --fail --record \(fleet.directory)/never.log, timeout: 1m}\n")
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let started = Started()
        let report = try await started.reconciler(fleet).reconcile()
        #expect(report.outcome.result == .halted)
        let failure = try #require(report.outcome.failures[fleet.name(0)], "\(report.outcome.message)")
        #expect(failure.code == .hook && failure.step == "beforeSwitch hook in B", "\(failure)")
        // What the hook printed is the detail (the page, notifications), never the outcome's message (git).
        #expect(failure.detail?.contains("migration 0042 failed") == true, "\(failure)")
        #expect(!report.outcome.message.contains("migration 0042 failed"), "\(report.outcome.message)")
        #expect(!started.all.contains { if case .route = $0 { return true } else { return false } })
        let serving = try await fleet.waitUntilServing("hello-service 1.0.0")
        #expect(serving.count == fleet.hosts)
    }

    @Test func aFailingPrepareHookOnOneHostLeavesItServingItsSlot() async throws {
        let fleet = try await startFleet()
        _ = try await fleet.apply()
        // The hook writes next to the host's slots (its working directory is the new build); on the second host
        // that path is a folder, so the hook fails there only.
        try FileManager.default.createDirectory(atPath: "\(fleet.hostFolder(1))/srv/fleet/prepared.log", withIntermediateDirectories: true)
        try setHooks(fleet, "  prepare: hello-migrate --record ../../prepared.log\n")
        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let reports = try await fleet.apply()
        let failed = reports[1].phases.flatMap(\.outcomes).first { !$0.ok }
        #expect(failed?.code == .hook, "\(reports[1].error?.message ?? "")")
        #expect(reports[1].error?.code == .hook, "\(String(describing: reports[1].error))")
        // The failed host keeps serving its slot, and its slot B is not the half-made build.
        let answer = try await fleet.get(1)
        #expect(answer.body.hasPrefix("hello-service 1.0.0"), "\(answer.body)")
        #expect(lines("\(fleet.hostFolder(0))/srv/fleet/prepared.log").map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
            == ["1.1.0 prepare B"])
    }
}
