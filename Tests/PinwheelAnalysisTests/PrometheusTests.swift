import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel watch --listen`'s `/metrics` scraped by a real Prometheus (Debian's `prometheus`, installed by
/// scripts/setup), and the example alert rules checked by its `promtool`.
@Suite("Prometheus", .serialized)
struct PrometheusTests {
    static let first = 201
    static let alertRules = Shell.packageRoot.appendingPathComponent("Examples/prometheus/pinwheel-alerts.yml").path

    static func value(_ answer: [(labels: [String: String], value: String)], _ labels: [String: String]) -> String? {
        answer.first { series in labels.allSatisfy { series.labels[$0.key] == $0.value } }?.value
    }

    @Test(.tags(.fleet)) func aRealPrometheusScrapesTheRolloutAndHostMetrics() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let port = try FreePort.next()
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache",
                                                    log: "\(fleet.directory)/watch.log", extra: ["--listen", "127.0.0.1:\(port)"])
        defer { watcher.signal(SIGTERM); watcher.process.waitUntilExit() }
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))

        let prometheus = try PrometheusServer(scraping: ["127.0.0.1:\(port)"], ruleFiles: [Self.alertRules], in: "\(fleet.directory)/prometheus")
        defer { prometheus.stop() }

        try fleet.setPins(.b, "hello-service==1.1.0")
        try fleet.setActive(.b)
        let mark = watcher.mark
        let release = try await config.commitAndPush("fleet: release hello-service 1.1.0")
        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(60), where: ["result": "converged", "commit": release])

        // The controller's last status, as JSON, beside the metrics.
        let one = try await Shell.run("curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(port)/api/v1/environments/fleet"])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(one.standardOutput.utf8)) as? [String: Any], "\(one.standardOutput)")
        #expect(status["result"] as? String == "converged")
        #expect(status["desired"] as? String == release)
        #expect(status["active"] as? String == "B")
        #expect((status["hosts"] as? [String: [String: Any]])?.values.allSatisfy { $0["serving"] as? String == "B" && $0["healthy"] as? Bool == true } == true,
                "\(one.standardOutput)")
        let all = try await Shell.run("curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(port)/api/v1/environments"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(all.standardOutput.utf8)) as? [String: Any], "\(all.standardOutput)")
        #expect((list["environments"] as? [[String: Any]])?.map { $0["environment"] as? String } == ["fleet"])
        let missing = try await Shell.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/api/v1/environments/nope"])
        #expect(missing.standardOutput == "404")

        // The first reconcile and the release both converged.
        let converged = ["environment": "fleet", "result": "converged"]
        let rollouts = try await prometheus.waitFor("pinwheel_rollouts_total") { Self.value($0, converged) == "2" }
        #expect(Self.value(rollouts, converged) == "2", "\(rollouts)\n\(prometheus.text)")
        #expect(rollouts.allSatisfy { $0.labels["job"] == "pinwheel" && $0.labels["instance"] == "127.0.0.1:\(port)" })

        let hosts = try await prometheus.waitFor("pinwheel_hosts") {
            Self.value($0, ["environment": "fleet", "slot": "B", "healthy": "true"]) == "2"
        }
        #expect(Self.value(hosts, ["environment": "fleet", "slot": "B", "healthy": "true"]) == "2", "\(hosts)")
        #expect(Self.value(hosts, ["environment": "fleet", "slot": "A", "healthy": "true"]) == "0")
        #expect(Self.value(hosts, ["environment": "fleet", "slot": "none", "healthy": "false"]) == "0")

        let commit = try await prometheus.waitFor("pinwheel_applied_commit_info") { Self.value($0, ["commit": release]) == "1" }
        #expect(commit.count == 1 && Self.value(commit, ["environment": "fleet", "commit": release]) == "1", "\(commit)")

        // Seconds since the last successful poll, as an alert computes it: polls run every 200ms.
        let age = try await prometheus.waitFor("time() - pinwheel_last_successful_poll_timestamp_seconds") { !$0.isEmpty }
        #expect(Double(age.first?.value ?? "") ?? .infinity < 30, "\(age)")
        let failures = try await prometheus.query("pinwheel_poll_failures_total")
        #expect(failures.first?.value == "0", "\(failures)")
        let durations = try await prometheus.query(#"pinwheel_reconcile_duration_seconds_count{result="converged"}"#)
        #expect(Self.value(durations, ["environment": "fleet"]) == "2", "\(durations)")

        // The controller process's own figures, from /proc.
        let memory = try await prometheus.query("process_resident_memory_bytes")
        #expect((Double(memory.first?.value ?? "") ?? 0) > 1_000_000, "\(memory)")
        let cpu = try await prometheus.query("process_cpu_seconds_total")
        #expect((Double(cpu.first?.value ?? "") ?? 0) > 0, "\(cpu)")

        // The example alert rules are loaded and none of them fires on a healthy fleet.
        let alerts = try await prometheus.query(#"ALERTS{alertstate="firing"}"#)
        #expect(alerts.isEmpty, "\(alerts)")

        // A release that halts (a version the index does not have: every host's prepare fails) and a commit that does
        // not validate, so the failure series the dashboard and the alerts look at exist too.
        try await config.pull()
        try fleet.setPins(.a, "hello-service==7.7.7")
        try fleet.setActive(.a)
        try await config.commitAndPush("fleet: release a version the index does not have")
        let failed = try await prometheus.waitFor(#"pinwheel_rollouts_total{result=~"halted|reverted"}"#, timeout: .seconds(90)) { !$0.isEmpty }
        #expect(!failed.isEmpty, "\(watcher.text.suffix(3000))")
        try await config.pull()
        try fleet.setPins(.a, "hello-service>=1.1.0")
        try await config.commitAndPush("fleet: a range by mistake")
        let invalid = try await prometheus.waitFor(#"pinwheel_rollouts_total{result="invalid"}"#, timeout: .seconds(60)) { !$0.isEmpty }
        #expect(!invalid.isEmpty, "\(watcher.text.suffix(3000))")

        // Every expression of the dashboard and of the alert rules finds data: none silently matches nothing.
        let queries = try ExampleQueries.dashboardQueries() + ExampleQueries.alertQueries()
        #expect(queries.count >= 20, "\(queries)")
        for query in queries {
            let answer = try await prometheus.waitFor(query.expression, timeout: .seconds(10)) { !$0.isEmpty }
            #expect(!answer.isEmpty, "no data for \(query)")
        }
        prometheus.stop()
        #expect(prometheus.process.terminationStatus == 0, "\(prometheus.text)")
    }

    @Test func theExampleAlertRulesPassPromtool() async throws {
        let check = try await Shell.run("promtool", ["check", "rules", Self.alertRules])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        #expect(check.standardOutput.contains("SUCCESS: 8 rules found"), "\(check.standardOutput)")
        // And they fire when they should: promtool's unit tests of them, on made-up series.
        let tests = Shell.packageRoot.appendingPathComponent("Examples/prometheus/pinwheel-alerts.test.yml").path
        let test = try await Shell.run("promtool", ["test", "rules", tests])
        #expect(test.status == 0, "\(test.standardOutput)\(test.standardError)")
    }
}
