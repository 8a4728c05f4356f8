import Testing
@testable import PinwheelCore

@Suite("Policies, durations and batch sizes")
struct PolicyAndDurationTests {
    @Test("durations", arguments: [
        ("500ms", Int64(500)), ("2s", 2000), ("1.5s", 1500), ("1m", 60_000), ("1h", 3_600_000), ("0s", 0),
    ])
    func durations(_ text: String, _ milliseconds: Int64) {
        #expect(ConfigDuration(parsing: text)?.milliseconds == milliseconds)
    }

    @Test("not durations", arguments: ["", "s", "10", "ten", "1.s", ".5s", "-1s", "1 s", "1d", "1.5ms", "99999999999999h"])
    func notDurations(_ text: String) {
        #expect(ConfigDuration(parsing: text) == nil)
    }

    @Test func durationsPrintAsWritten() {
        #expect(ConfigDuration(milliseconds: 250).description == "250ms")
        #expect(ConfigDuration(milliseconds: 1500).description == "1500ms")
        #expect(ConfigDuration.seconds(10).description == "10s")
        #expect(ConfigDuration.seconds(120).description == "2m")
    }

    @Test func batchSizes() {
        #expect(BatchSize(parsing: "25%") == .percent(25))
        #expect(BatchSize(parsing: "3") == .count(3))
        #expect(BatchSize(parsing: "0") == nil)
        #expect(BatchSize(parsing: "101%") == nil)
        #expect(BatchSize(parsing: "%") == nil)
        #expect(BatchSize.percent(25).hosts(of: 20) == 5)
        #expect(BatchSize.percent(25).hosts(of: 3) == 1)
        #expect(BatchSize.percent(30).hosts(of: 10) == 3)
        #expect(BatchSize.percent(30).hosts(of: 11) == 4)
        #expect(BatchSize.count(5).hosts(of: 2) == 5)
    }

    @Test func policyDefaultsAndValues() throws {
        var files = Fixture.files
        files[Fixture.policyPath] = "rollout: {canary: 0, batch: 5}\n"
        let policy = try #require(try Fixture.load(files).policies["prod"])
        #expect(policy.rollout.canary == 0)
        #expect(policy.rollout.batch == .count(5))
        #expect(policy.rollout.prepare == 10)
        #expect(policy.rollout.onFailure == .halt)
        #expect(policy.health.retries == 10)
        #expect(policy.drift == .report)
    }

    @Test func suggestionsFindNearMisses() {
        #expect(ConfigReader.suggestion(for: "proceses", among: ["command", "processes", "port"]) == "did you mean `processes`?")
        #expect(ConfigReader.suggestion(for: "wbe", among: ["web", "worker"]) == "did you mean `web`?")
        #expect(ConfigReader.suggestion(for: "Active", among: ["active"]) == "did you mean `active`?")
        #expect(ConfigReader.suggestion(for: "zzzzzz", among: ["a", "b"]) == "expected one of `a`, `b`")
        #expect(EditDistance.between("kitten", "sitting") == 3)
        #expect(EditDistance.between("abcd", "abdc") == 1)
    }
}
