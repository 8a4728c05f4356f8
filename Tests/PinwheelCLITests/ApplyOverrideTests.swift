import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing

/// `pinwheel apply --override REASON` on a real loopback fleet: what admission holds back is applied only with a
/// reason, and the reason, who gave it and the rule it overrode land in a status commit that `history` shows.
@Suite("pinwheel apply --override", .serialized, .tags(.fleet))
struct ApplyOverrideTests {
    static let first = 95
    static let identity = ["GIT_AUTHOR_NAME": "Olive Override", "GIT_AUTHOR_EMAIL": "olive@example.com"]

    @Test func anOverrideAppliesARefusedCommitAndIsRecordedOnTheStatusBranch() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        try fleet.write("Policies/local.yaml", """
            rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: halt}
            health: {retries: 40, interval: 250ms}
            windows:
              - deny: {from: "00:00", to: "00:00", zone: UTC}

            """)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let head = try await config.head()

        // Held: exit 1, the reason code, and no host touched.
        let held = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--json"] + fleet.allowIdentityArguments,
                                     environment: Self.identity)
        #expect(held.status == 1, "\(held.stdout)\(held.stderr)")
        let events = held.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.map { $0["event"] as? String } == ["apply.held"], "no host observed: \(held.stdout)")
        #expect(events.first?["reason"] as? String == AdmissionReason.windowClosed.rawValue)

        // Overridden: applied, and recorded.
        let applied = try CLIRunner.run(["apply", "fleet", "--repo", fleet.config, "--quiet", "--override", "hotfix for INC-42"]
                                        + fleet.allowIdentityArguments, environment: Self.identity)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try await fleet.get(0).body.hasPrefix("hello-service 1.0.0"))
        let text = try await config.inWork(["show", "\(EnvironmentStatus.defaultBranch):\(EnvironmentStatus.path(of: "fleet"))"])
        let status = try EnvironmentStatus.parse(text)
        #expect(status.desired == head && status.applied == head)
        #expect(status.result == .converged)
        let override = try #require(status.override)
        #expect(override.reason == "hotfix for INC-42")
        #expect(override.overrode == [.windowClosed])
        #expect(override.by == "Olive Override <olive@example.com>")
        #expect(try await config.inWork(["log", "-1", "--format=%an", EnvironmentStatus.defaultBranch]).hasPrefix("Olive Override"))

        let shown = try CLIRunner.run(["status", "fleet", "--repo", fleet.config])
        let line = shown.stdout.split(separator: "\n").first { $0.hasPrefix("override:") }.map(String.init) ?? ""
        #expect(line.contains("olive@example.com") && line.contains(AdmissionReason.windowClosed.rawValue) && line.contains("INC-42"),
                "\(shown.stdout)")

        // history shows it, in JSON and to people.
        let history = try CLIRunner.run(["history", "fleet", "--repo", fleet.config, "--json"])
        #expect(history.status == 0, "\(history.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])
        let entries = try #require(json["entries"] as? [[String: Any]])
        let entry = try #require(entries.first { $0["commit"] as? String == head }, "\(history.stdout)")
        let records = try #require(entry["applied"] as? [[String: Any]])
        let recorded = try #require(records.first?["override"] as? [String: Any], "\(records)")
        #expect(recorded["reason"] as? String == "hotfix for INC-42")
        #expect(recorded["overrode"] as? [String] == [AdmissionReason.windowClosed.rawValue])
        let printed = try CLIRunner.run(["history", "fleet", "--repo", fleet.config])
        #expect(printed.stdout.contains("override:") && printed.stdout.contains("hotfix for INC-42"), "\(printed.stdout)")
    }
}
