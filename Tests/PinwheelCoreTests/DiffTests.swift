import Testing
@testable import PinwheelCore

@Suite("Environment diff")
struct DiffTests {
    private func environment(_ edit: (inout [String: String]) -> Void = { _ in }) throws -> Environment {
        var files = Fixture.files
        edit(&files)
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func aReleaseReadsLikeAPullRequest() throws {
        let before = try environment()
        let after = try environment { files in
            files[Fixture.slotBPath] = "hello-service==1.2.0\nclick==8.1.7\n"
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: B")
        }
        #expect(EnvironmentDiff.changes(from: before, to: after) == ["slot B: hello-service 1.1.0 → 1.2.0", "active: A → B"])
    }

    @Test func noChangeIsEmpty() throws {
        #expect(EnvironmentDiff.changes(from: try environment(), to: try environment()).isEmpty)
    }

    @Test func addedRemovedPackagesHostsAndPolicy() throws {
        let before = try environment()
        let after = try environment { files in
            files[Fixture.slotAPath] = "hello-service==1.0.0\nrequests==2.31.0\n"
            files[Fixture.policyPath] = Fixture.policy.replacingOccurrences(of: "batch: 25%", with: "batch: 50%")
            files[Fixture.environmentPath] = Fixture.environment
                .replacingOccurrences(of: "    port: 2222\n", with: "    port: 2222\n  - name: web-03\n    address: 10.0.0.13\n")
                .replacingOccurrences(of: "processes: 2", with: "processes: 3")
        }
        let changes = EnvironmentDiff.changes(from: before, to: after)
        #expect(changes.contains("slot A: +requests 2.31.0, -click 8.1.7"))
        #expect(changes.contains("rollout.batch: 25% → 50%"))
        #expect(changes.contains("hosts added: web-03"))
        #expect(changes.contains("program web processes: 2 → 3"))
    }

    @Test func hostSettingChanges() throws {
        let before = try environment()
        let after = try environment { files in
            files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "port: 2222", with: "port: 2200")
        }
        #expect(EnvironmentDiff.changes(from: before, to: after) == ["host web-02: port: 2222 → 2200"])
    }

    @Test func createdAndRemoved() throws {
        let environment = try environment()
        #expect(EnvironmentDiff.changes(from: nil, to: environment).first == "environment prod created: active A, 2 hosts")
        #expect(EnvironmentDiff.changes(from: environment, to: nil) == ["environment prod removed"])
    }
}
