import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PinwheelCore
import PinwheelTestSupport
import Synchronization
import Testing

/// Canary analysis end to end: a real Prometheus (Debian's) discovers the sample service's processes of both slots
/// through `pinwheel watch`'s `/prometheus/targets`, scrapes their `prometheus_client` metrics while traffic goes
/// through every host's nginx, and the controller measures the policy's error ratio against it. The healthy-but-bad
/// 6.6.6 (its /healthz says ok, every other request fails) is stopped at the canary and reverted in git; 1.1.0 passes
/// its analysis; with Prometheus stopped, a release holds at the canary instead of promoting.
@Suite("Canary analysis against a real Prometheus", .serialized)
struct AnalysisEndToEndTests {
    static let first = 125

    static let policy = """
        rollout: {prepare: 20, canary: 1, batch: 50%, pause: 0s, maxFailures: 0, onFailure: revert}
        health: {retries: 40, interval: 250ms}
        drift: heal
        bake: 2s
        analysis:
          metrics:
            - name: error-ratio
              query: |
                (sum(rate(hello_requests_total{environment="{{environment}}",slot="{{slot}}",version="{{version}}",host=~"{{hosts}}",status=~"5.."}[10s])) or vector(0))
                / sum(rate(hello_requests_total{environment="{{environment}}",slot="{{slot}}",version="{{version}}",host=~"{{hosts}}"}[10s]))
              initialDelay: 3s
              interval: 2s
              count: 2
              max: 0.1

        """

    /// Requests to every host's nginx, every 50 ms, until stopped: the traffic the metrics count.
    final class Traffic: Sendable {
        let running = Mutex(true)
        let answered = Mutex([Int: Int]())

        func start(_ addresses: [String]) {
            for address in addresses {
                Thread.detachNewThread { [self] in
                    while running.withLock({ $0 }) {
                        var request = URLRequest(url: URL(string: "http://\(address)/")!, timeoutInterval: 2)
                        request.cachePolicy = .reloadIgnoringLocalCacheData
                        let done = DispatchSemaphore(value: 0)
                        URLSession.shared.dataTask(with: request) { [self] _, response, _ in
                            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                            answered.withLock { $0[status, default: 0] += 1 }
                            done.signal()
                        }.resume()
                        done.wait()
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                }
            }
        }

        func stop() { running.withLock { $0 = false } }
    }

    @Test(.tags(.fleet)) func aHealthyButBadReleaseIsStoppedAtTheCanaryAGoodOnePassesAndASilentPrometheusHolds() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first, metrics: true)
        let metricsPins = { (version: String) in "hello-service==\(version)\nprometheus-client==0.26.0" }
        try fleet.setPins(.a, metricsPins("1.0.0"))
        try fleet.setPins(.b, metricsPins("1.0.0"))
        // Prometheus reaches each process at the host's address: the apps listen on every address, not loopback only.
        try fleet.editEnvironment { $0.replacingOccurrences(of: "command: hello-service --port {port}",
                                                           with: "command: hello-service --host 127.0.0.1 --host {address} --port {port}") }
        try fleet.write("Policies/local.yaml", Self.policy)
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let port = try FreePort.next()
        let prometheus = try PrometheusServer(scraping: [], discovering: ["http://127.0.0.1:\(port)/prometheus/targets"],
                                              in: "\(fleet.directory)/prometheus")
        defer { prometheus.stop() }
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache",
                                                    log: "\(fleet.directory)/watch.log",
                                                    extra: ["--listen", "127.0.0.1:\(port)", "--prometheus", prometheus.url.absoluteString])
        defer { watcher.signal(SIGTERM); watcher.process.waitUntilExit() }
        try await watcher.waitFor(.statusCommitted, timeout: .seconds(90))
        let traffic = Traffic()
        traffic.start((0..<3).map(fleet.address))
        defer { traffic.stop() }

        // Prometheus finds both slots of every host through the controller, labelled for the queries.
        let up = try await prometheus.waitFor(#"up{job="apps"}"#, timeout: .seconds(30)) { $0.count == 12 && $0.allSatisfy { $0.value == "1" } }
        #expect(up.count == 12, "3 hosts × 2 slots × 2 processes: \(up)\n\(prometheus.text.suffix(2000))")
        #expect(Set(up.compactMap { $0.labels["slot"] }) == ["A", "B"])
        #expect(up.allSatisfy { $0.labels["environment"] == "fleet" && $0.labels["version"] == "1.0.0" && $0.labels["program"] == "web" })
        #expect(up.filter { $0.labels["routed"] == "true" }.allSatisfy { $0.labels["slot"] == "A" })

        // The healthy-but-bad release: the canary's error ratio fails, it goes back, the commit is reverted.
        try fleet.setPins(.b, metricsPins("6.6.6"))
        try fleet.setActive(.b)
        var mark = watcher.mark
        let bad = try await config.commitAndPush("fleet: release hello-service 6.6.6")
        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(60), where: ["result": "halted", "commit": bad])
        try await config.pull()
        let halted = try #require(try config.status(of: "fleet", branch: EnvironmentStatus.defaultBranch))
        #expect(halted.desired == bad && halted.result == .halted)
        #expect(halted.revert != nil, "reverted in git")
        #expect(halted.analysis?.map(\.stage) == ["canary"], "no batch after the failed canary: \(String(describing: halted.analysis))")
        #expect(halted.analysis?.first?.verdict == .failed, "\(String(describing: halted.analysis))")
        #expect(halted.cause?.code == "analysis")

        // The revert converges; then 1.1.0 passes its analysis after the canary and the batch.
        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(60), where: ["result": "converged", "commit": halted.revert!])
        try await config.pull()
        try fleet.setPins(.b, metricsPins("1.1.0"))
        try fleet.setActive(.b)
        mark = watcher.mark
        let good = try await config.commitAndPush("fleet: release hello-service 1.1.0")
        try await watcher.waitFor(.statusCommitted, after: mark, timeout: .seconds(90), where: ["result": "converged", "commit": good])
        let passed = try #require(try config.status(of: "fleet"))
        #expect(passed.analysis?.map(\.stage) == ["canary", "batch 1"])
        #expect(passed.analysis?.allSatisfy { $0.verdict == .passed } == true, "\(String(describing: passed.analysis))")

        // Prometheus goes away: the next release holds at the canary, and says so, instead of promoting.
        prometheus.stop()
        try await config.pull()
        try fleet.setPins(.a, metricsPins("2.0.0"))
        try fleet.setActive(.a)
        mark = watcher.mark
        try await config.commitAndPush("fleet: release hello-service 2.0.0")
        let held = try await watcher.waitFor(.analysisHeld, after: mark, timeout: .seconds(60))
        #expect(held?["stage"] == "canary" && held?["reason"]?.isEmpty == false, "\(String(describing: held))")
        try await Task.sleep(for: .seconds(5))
        #expect(watcher.events(.stageStarted, since: mark, where: ["stage": "batch 1"]).isEmpty,
                "never promoted while held: \(watcher.events(since: mark).suffix(20))")
        let served = try await Shell.run("curl", ["-s", "--max-time", "3", "http://\(fleet.address(2))/"])
        #expect(served.standardOutput.contains("1.1.0"), "the last host still serves 1.1.0: \(served.standardOutput)")
    }
}
