import Foundation

/// A real Prometheus server (Debian's `prometheus`, installed by `scripts/setup`) on a free loopback port, scraping
/// the given targets every second, its storage in a folder of the test's.
public final class PrometheusServer: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let log: String

    /// - Parameters:
    ///   - targets: `host:port` to scrape (none: a server for queries of its own, such as `vector(1)`).
    ///   - discovering: HTTP service discovery URLs (`http_sd_configs`, refreshed every second), scraped as the job
    ///     `apps`: the controller's `/prometheus/targets`.
    ///   - ruleFiles: alerting and recording rule files to load.
    public init(scraping targets: [String], discovering: [String] = [], ruleFiles: [String] = [], in directory: String) throws {
        port = try FreePort.next()
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        let config = "\(directory)/prometheus.yml"
        let rules = ruleFiles.map { "'\($0)'" }.joined(separator: ", ")
        var jobs: [String] = []
        if !targets.isEmpty {
            jobs.append("""
                  - job_name: pinwheel
                    static_configs: [{targets: [\(targets.map { "'\($0)'" }.joined(separator: ", "))]}]
                """)
        }
        if !discovering.isEmpty {
            jobs.append("""
                  - job_name: apps
                    http_sd_configs: [\(discovering.map { "{url: '\($0)', refresh_interval: 1s}" }.joined(separator: ", "))]
                """)
        }
        let scrape = jobs.isEmpty ? "scrape_configs: []" : "scrape_configs:\n" + jobs.joined(separator: "\n")
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            rule_files: [\(rules)]
            \(scrape)

            """.write(toFile: config, atomically: false, encoding: .utf8)
        log = "\(directory)/prometheus.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(directory)/data",
                             "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
    }

    /// The server's base URL.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// One instant query through the HTTP API: each series' labels and value; empty until it is scraped.
    public func query(_ expression: String) async throws -> [(labels: [String: String], value: String)] {
        let answer = try await Shell.run("curl", ["-s", "--max-time", "3", "-G", "--data-urlencode", "query=\(expression)",
                                                  "http://127.0.0.1:\(port)/api/v1/query"])
        guard answer.status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(answer.standardOutput.utf8)) as? [String: Any],
              json["status"] as? String == "success",
              let data = json["data"] as? [String: Any],
              let result = data["result"] as? [[String: Any]] else { return [] }
        return result.compactMap { series in
            guard let labels = series["metric"] as? [String: String], let value = series["value"] as? [Any],
                  value.count == 2, let number = value[1] as? String else { return nil }
            return (labels, number)
        }
    }

    /// Queries until `accept` holds for the answer, at most `timeout`; the last answer either way.
    public func waitFor(_ expression: String, timeout: Duration = .seconds(30),
                        until accept: ([(labels: [String: String], value: String)]) -> Bool) async throws -> [(labels: [String: String], value: String)] {
        let deadline = ContinuousClock.now + timeout
        var answer = try await query(expression)
        while !accept(answer), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            answer = try await query(expression)
        }
        return answer
    }

    /// Waits until the server answers queries, at most `timeout`.
    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        _ = try await waitFor("vector(1)", timeout: timeout) { !$0.isEmpty }
    }

    public var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}
