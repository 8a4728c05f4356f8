import Foundation
import Testing
@testable import PinwheelCore

/// `notify:` in a policy and `watch --notify`: where a target's URL is read, never the URL itself.
@Suite("Notification targets")
struct NotifyPolicyTests {
    func load(_ policy: String) throws -> (Policy?, [String]) {
        var files = Fixture.files
        files[Fixture.policyPath] = policy
        let report = try Fixture.load(files)
        return (report.policies["prod"], report.diagnostics.map(\.description))
    }

    @Test func targetsAreReadWithTheirEvents() throws {
        let (policy, errors) = try load("""
            notify:
              - type: slack
                url: {env: SLACK_WEBHOOK_URL}
              - type: webhook
                url: {file: /etc/pinwheel/hook-url}
                events: [halted, reverted, halted]

            """)
        #expect(errors.isEmpty)
        let targets = try #require(policy?.notify)
        #expect(targets == [
            NotifyTarget(format: .slack, url: .environment("SLACK_WEBHOOK_URL")),
            NotifyTarget(format: .webhook, url: .file("/etc/pinwheel/hook-url"), events: [.halted, .reverted]),
        ])
        #expect(targets[0].receives(.drift))
        #expect(!targets[1].receives(.started))
        #expect(targets[0].description == "slack (env SLACK_WEBHOOK_URL)")
        // `show --json` writes them as the config does.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(targets), as: UTF8.self)
        #expect(json == #"[{"events":["started","converged","degraded","halted","reverted","refused","waiting","drift","superseded","held"],"type":"slack","url":{"env":"SLACK_WEBHOOK_URL"}},"#
            + #"{"events":["halted","reverted"],"type":"webhook","url":{"file":"/etc/pinwheel/hook-url"}}]"#)
        #expect(try JSONDecoder().decode([NotifyTarget].self, from: Data(json.utf8)) == targets)
    }

    @Test func aPolicyWithoutNotifyHasNoTargets() throws {
        let (policy, errors) = try load("rollout: {canary: 1}\n")
        #expect(errors.isEmpty)
        #expect(policy?.notify == [])
    }

    @Test func aLiteralURLIsRefusedAtItsPlaceAndNeverRepeated() throws {
        let (_, errors) = try load("""
            notify:
              - type: slack
                url: https://hooks.slack.com/services/T000/B000/SECRETTOKEN

            """)
        let error = try #require(errors.first { $0.hasPrefix("Policies/") })
        #expect(errors.filter { $0.hasPrefix("Policies/") }.count == 1)
        #expect(errors.allSatisfy { !$0.contains("SECRETTOKEN") })
        #expect(error.hasPrefix("Policies/prod.yaml:3:10: error: `url` of `notify[0]` must say where the controller reads the URL"))
        #expect(error.contains("url: {env: SLACK_WEBHOOK_URL}"))
        #expect(!error.contains("SECRETTOKEN"))
        #expect(!error.contains("hooks.slack.com"))
    }

    @Test("mistakes are errors at their place", arguments: [
        ("notify: {type: slack}\n", "Policies/prod.yaml:1:9: error: `notify` must be a list"),
        ("notify:\n  - type: teams\n    url: {env: X}\n", "Policies/prod.yaml:2:11: error: `type` of `notify[0]` must be one of `webhook`, `slack`"),
        ("notify:\n  - type: slack\n", "Policies/prod.yaml:2:5: error: `notify[0]` is missing the required key `url`"),
        ("notify:\n  - type: slack\n    url: {env: 1BAD}\n", "Policies/prod.yaml:3:16: error: `env` of `url` of `notify[0]` must be an environment variable's name"),
        ("notify:\n  - type: slack\n    url: {file: relative/path}\n", "Policies/prod.yaml:3:17: error: `file` of `url` of `notify[0]` must be an absolute path"),
        ("notify:\n  - type: slack\n    url: {file: \"https://x.example/T/secret\"}\n", "Policies/prod.yaml:3:17: error: `file` of `url` of `notify[0]` must be an absolute path on the controller without `..`, found a URL"),
        ("notify:\n  - type: slack\n    url: {env: A, file: /b}\n", "Policies/prod.yaml:3:10: error: `url` of `notify[0]` must name exactly one of `env` or `file`"),
        ("notify:\n  - type: slack\n    url: {env: A}\n    events: [deployed]\n", "Policies/prod.yaml:4:14: error: an event of `notify[0]` must be one of `started`"),
        ("notify:\n  - type: slack\n    url: {env: A}\n    events: []\n", "Policies/prod.yaml:4:13: error: `events` of `notify[0]` names no event"),
        ("notify:\n  - type: slack\n    url: {env: A}\n    secret: x\n", "Policies/prod.yaml:4:5: error: unknown key `secret` in `notify[0]`"),
    ])
    func mistakes(_ policy: String, _ expected: String) throws {
        let (_, errors) = try load(policy)
        #expect(errors.contains { $0.hasPrefix(expected) }, "expected \(expected), got \(errors)")
    }

    @Test func theControllerFlagNamesWhereTheURLIs() throws {
        #expect(try NotifyTarget(flag: "slack=env:SLACK_WEBHOOK_URL") == NotifyTarget(format: .slack, url: .environment("SLACK_WEBHOOK_URL")))
        #expect(try NotifyTarget(flag: "webhook=file:/etc/pinwheel/hook") == NotifyTarget(format: .webhook, url: .file("/etc/pinwheel/hook")))
        for bad in ["slack", "teams=env:X", "slack=env:", "slack=env:A-B", "webhook=file:etc/x", "webhook=file:/a/../b"] {
            #expect(throws: NotifyFlagError.self) { try NotifyTarget(flag: bad) }
        }
        do {
            _ = try NotifyTarget(flag: "slack=https://hooks.slack.com/services/T/B/SECRETTOKEN")
            Issue.record("a literal URL was accepted")
        } catch {
            #expect(error.description.contains("never given on the command line"))
            #expect(!error.description.contains("SECRETTOKEN"))
        }
    }
}
