import Foundation
import PinwheelCore
import Testing

@Suite("release plan, overlay source and status records")
struct ReleasePlanTests {
    func environment(_ files: [String: String] = Fixture.files) throws -> Environment {
        try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func flipsOnlyTheActiveLetterKeepingComments() throws {
        let text = "app: x\nactive: \"A\"   # the live slot\nslots:\n  active: A\n"
        #expect(ReleasePlan.flipActive(text, to: .b) == "app: x\nactive: \"B\"   # the live slot\nslots:\n  active: A\n")
        #expect(ReleasePlan.flipActive("{active: A}\n", to: .b) == nil)
    }

    @Test func parsesChanges() throws {
        #expect(try ReleasePlan.Change.parse("hello-service==1.1.0") == .init(name: "hello-service", version: "1.1.0"))
        #expect(throws: ReleaseError.self) { try ReleasePlan.Change.parse("hello-service>=1.1.0") }
        #expect(throws: ReleaseError.self) { try ReleasePlan.Change.parse("hello-service==banana") }
        #expect(throws: ReleaseError.self) { try ReleasePlan.Change.parse("bad name==1.0") }
    }

    @Test func writesTheIdleSlotAndFlipsActiveAndValidates() throws {
        let env = try environment()
        let plan = try ReleasePlan.make(environment: env, environmentText: Fixture.environment,
                                        changes: [.init(name: "Hello_Service", version: "2.0.0")])
        #expect(plan.slot == .b)
        let slot = try #require(plan.files[Fixture.slotBPath])
        #expect(slot.hasPrefix("# Slot B of prod"))
        #expect(slot.hasSuffix("click==8.1.7\nhello-service==2.0.0\n"))
        #expect(plan.files[Fixture.environmentPath] == Fixture.environment.replacingOccurrences(of: "active: A\n", with: "active: B\n"))
        // The overlay validates exactly what would be committed.
        let source = OverlayConfigSource(base: InMemorySource(Fixture.files), files: plan.files.mapValues { Data($0.utf8) })
        let after = try ConfigLoader(source: source).environment("prod")
        #expect(after.active == .b)
        #expect(after.slots[.b].pin(named: "hello-service")?.version == "2.0.0")
        #expect(EnvironmentDiff.changes(from: env, to: after) == ["slot B: hello-service 1.1.0 → 2.0.0", "active: A → B"])
    }

    @Test func refusesUnknownPackagesAndNoOps() throws {
        let env = try environment()
        #expect(throws: ReleaseError.self) {
            try ReleasePlan.make(environment: env, environmentText: Fixture.environment, changes: [.init(name: "flask", version: "3.0.0")])
        }
        #expect(throws: ReleaseError.self) {
            try ReleasePlan.make(environment: env, environmentText: Fixture.environment, changes: [.init(name: "hello-service", version: "1.0.0")])
        }
    }

    @Test func dropsHashesThatNoLongerMatch() throws {
        let hash1 = "sha256:" + String(repeating: "a", count: 64)
        let hash2 = "sha256:" + String(repeating: "b", count: 64)
        var files = Fixture.files
        files[Fixture.slotAPath] = "hello-service==1.0.0 --hash=\(hash1)\nclick==8.1.7 \\\n    --hash=\(hash2)\n"
        let env = try environment(files)
        let plan = try ReleasePlan.make(environment: env, environmentText: Fixture.environment,
                                        changes: [.init(name: "hello-service", version: "1.1.0")])
        #expect(plan.pins.allSatisfy { $0.hashes.isEmpty })
        #expect(plan.warnings.count == 2)
        #expect(plan.warnings[0].contains("hashes of hello-service 1.0.0 were dropped"))
    }

    @Test func readsStatusRecordsBackFromCommitMessages() throws {
        let status = EnvironmentStatus(environment: "production", desired: String(repeating: "3f", count: 20), result: .converged,
                                       message: "ok", time: "2025-01-01T00:00:00Z", active: .b, pins: ["hello-service==1.1.0"],
                                       hosts: ["web-01": .init(serving: .b, slots: [:], healthy: true),
                                               "web-02": .init(serving: .a, slots: [:], healthy: true)],
                                       revert: "abc")
        let lines = status.commitMessage.split(separator: "\n")
        let trailers = lines.filter { $0.hasPrefix("Pinwheel-") }.map { line -> (key: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        }
        let record = try #require(StatusRecord.parse(summary: status.summary, trailers: trailers))
        #expect(record.environment == "production")
        #expect(record.desired == status.desired)
        #expect(record.result == "converged")
        #expect(record.healthyHosts == 1 && record.hosts == 2)
        #expect(record.revert == "abc")
        #expect(StatusRecord.parse(summary: "x", trailers: [("Signed-off-by", "me")]) == nil)
    }
}
