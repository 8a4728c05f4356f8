import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet
import PinwheelEngine

/// A real fleet on this machine's loopback for tests: each host with its own sshd, supervisord and nginx
/// (`scripts/fleet`), a pypiserver index with the sample service's wheels (`scripts/package-index`), and a config
/// repository folder whose `Environments/fleet/` describes it. Torn down when released.
public final class TestFleet: TestConfigFolder, @unchecked Sendable {
    public let directory: String
    public let hosts: Int
    public let first: Int
    public let indexPort: Int
    /// The config repository (a plain folder): `Environments/fleet/` and `Policies/local.yaml`.
    public let config: String
    public let environmentName = "fleet"

    /// Starts `hosts` hosts numbered from `first` (addresses 127.0.0.(10+first)...), and an index on a port the OS
    /// says is free. Suites that run at the same time must use different `first` ranges.
    public static func start(hosts: Int = 3, first: Int, uv: Bool = true) async throws -> TestFleet {
        let indexPort = try FreePort.next()
        let directory = try makeShortDirectory()
        let fleet = TestFleet(directory: directory, hosts: hosts, first: first, indexPort: indexPort)
        try await Shell.script("sample-service", ["--dir", directory])
        try await Shell.script("package-index", ["up", "--dir", directory, "--port", String(indexPort)])
        var arguments = ["up", String(hosts), "--dir", directory, "--first", String(first), "--index-port", String(indexPort),
                         "--env-file", "\(fleet.environmentFolder)/environment.yaml"]
        if uv {
            let tools = try await Shell.script("fleet-tools", []).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            arguments += ["--uv", "\(tools)/bin/uv"]
        }
        try await Shell.script("fleet", arguments)
        try fleet.write("Policies/local.yaml", defaultPolicy)
        try fleet.setPins(.a, "hello-service==1.0.0")
        try fleet.setPins(.b, "hello-service==1.0.0")
        return fleet
    }

    private init(directory: String, hosts: Int, first: Int, indexPort: Int) {
        self.directory = directory
        self.hosts = hosts
        self.first = first
        self.indexPort = indexPort
        self.config = "\(directory)/config"
    }

    deinit {
        Shell.scriptNow("fleet", ["down", "--dir", directory])
        Shell.scriptNow("package-index", ["down", "--dir", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Short, because supervisord's socket path under it must fit in 107 bytes.
    private static func makeShortDirectory() throws -> String {
        var template = Array("/tmp/pwf.XXXXXX".utf8CString)
        guard let pointer = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        return String(cString: pointer)
    }

    // MARK: The hosts

    public func name(_ index: Int) -> String { String(format: "web-%02d", first + index) }
    public func address(_ index: Int) -> String { "127.0.0.\(10 + first + index)" }
    public func hostFolder(_ index: Int) -> String { "\(directory)/hosts/\(name(index))" }
    public var knownHosts: String { "\(directory)/known_hosts" }

    /// The fleet's environment names its private key and known_hosts by absolute paths in its folder: the folder
    /// the controller must allow (`--allow-identity-dir`).
    public var localFileTrust: LocalFileTrust { LocalFileTrust(folders: [directory]) }

    /// `pinwheel apply`, `plan` and `watch` arguments that allow the fleet's folder.
    public var allowIdentityArguments: [String] { ["--allow-identity-dir", directory] }

    /// One transport per host, with a control-socket folder of this fleet's own.
    public func transports(for environment: Environment) -> [String: any Transport] {
        Dictionary(uniqueKeysWithValues: environment.hosts.map { host in
            (host.name, SSHTransport(host: host, knownHostsFile: knownHosts, controlDirectory: "\(directory)/cm") as any Transport)
        })
    }

    public func reconciler(events: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) throws -> EnvironmentReconciler {
        let environment = try environment()
        return EnvironmentReconciler(environment: environment, transports: transports(for: environment), commit: nil, events: events)
    }

    /// One reconcile by the environment's policy, as `pinwheel apply` runs it; the hosts' reports.
    public func apply(events: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) async throws -> [HostReport] {
        try await reconciler(events: events).reconcile().hosts
    }

    /// Stops the host's sshd and drops its open sessions (and what they run), as a host going down would.
    public func stopHost(_ index: Int) async throws {
        try await Shell.script("fleet", ["stop-host", name(index), "--dir", directory])
    }

    public func startHost(_ index: Int) async throws {
        try await Shell.script("fleet", ["start-host", name(index), "--dir", directory])
    }

    /// Freezes (SIGSTOP) every sshd process of the host: connections are accepted and never answered.
    public func freezeHost(_ index: Int) async throws {
        try await Shell.script("fleet", ["freeze-host", name(index), "--dir", directory])
    }

    public func thawHost(_ index: Int) async throws {
        try await Shell.script("fleet", ["thaw-host", name(index), "--dir", directory])
    }

    /// GET through the host's nginx: status, body and the X-Pinwheel-Slot header.
    public func get(_ index: Int, path: String = "/") async throws -> (status: Int, body: String, slot: String?) {
        let output = try await Shell.run("curl", ["-s", "-i", "--max-time", "3", "http://\(address(index))\(path)"])
        let text = output.standardOutput.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "\n\n")
        let head = parts.first ?? ""
        let body = parts.dropFirst().joined(separator: "\n\n")
        let statusLine = head.split(separator: "\n").first.map(String.init) ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let slot = head.split(separator: "\n").first { $0.lowercased().hasPrefix("x-pinwheel-slot:") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
        return (status, body.trimmingCharacters(in: .whitespacesAndNewlines), slot)
    }

    /// `get` polled until the answer comes from `slot` or `timeout` passes (then the last answer): nginx reloads
    /// gracefully, so an old worker may answer for a moment after a switch.
    public func get(_ index: Int, path: String, from slot: String,
                    timeout: Duration = .seconds(5)) async throws -> (status: Int, body: String, slot: String?) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let answer = try await get(index, path: path)
            if answer.slot == slot || ContinuousClock.now > deadline { return answer }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// What each host's nginx serves at `/` (every host, or those of `indexes`), polled until each answers
    /// `expected` or `timeout` passes: nginx reloads gracefully, so an old worker may answer for a moment.
    public func waitUntilServing(_ expected: String, hosts indexes: [Int]? = nil, timeout: Duration = .seconds(5)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            var bodies: [String] = []
            for index in indexes ?? Array(0..<hosts) {
                bodies.append(try await get(index).body)
            }
            if bodies.allSatisfy({ $0.contains(expected) }) || ContinuousClock.now > deadline {
                return bodies
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Files and processes that make up a host's state, to prove a run changed nothing.
    public func snapshot(_ index: Int) async throws -> [String: String] {
        var state: [String: String] = [:]
        let root = hostFolder(index)
        let files = FileManager.default.enumerator(atPath: root)
        while let relative = files?.nextObject() as? String {
            guard relative.hasSuffix("manifest.json") || relative.hasSuffix(".conf") || relative.hasSuffix("requirements.txt") else { continue }
            let path = "\(root)/\(relative)"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            state[relative] = "\(modified) \(try String(contentsOfFile: path, encoding: .utf8))"
        }
        for slot in ["A", "B"] {
            state["link \(slot)"] = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/srv/\(environmentName)/slots/\(slot)")
        }
        let status = try await Shell.run("supervisorctl", ["-c", "\(root)/supervisor/supervisord.conf", "status"])
        state["processes"] = status.standardOutput.split(separator: "\n").map { line in
            // Name, state and pid; not the uptime, which moves.
            line.split(separator: " ", omittingEmptySubsequences: true).prefix(4).joined(separator: " ")
        }.joined(separator: "\n")
        return state
    }
}

extension TestFleet {
    /// Requests through every host's nginx, in a loop, until stopped; counts what failed.
    public final class ClientLoop: @unchecked Sendable {
        private let stopFile: String
        private let task: Task<Shell.Output, any Error>

        public struct Result: Decodable, Sendable {
            public var ok: Int
            public var failed: Int
            public var errors: [String]
            public var bodies: [String]
        }

        init(urls: [String], directory: String) {
            stopFile = "\(directory)/client-loop-\(UUID().uuidString).stop"
            let script = """
                import json, os, sys, threading, urllib.request
                urls, stop = json.loads(sys.argv[1]), sys.argv[2]
                lock = threading.Lock()
                result = {"ok": 0, "failed": 0, "errors": [], "bodies": []}
                def loop(url):
                    while not os.path.exists(stop):
                        try:
                            with urllib.request.urlopen(url, timeout=5) as response:
                                body = response.read().decode().strip()
                            with lock:
                                result["ok"] += 1
                                if body.split(" on ")[0] not in result["bodies"]:
                                    result["bodies"].append(body.split(" on ")[0])
                        except Exception as error:
                            with lock:
                                result["failed"] += 1
                                result["errors"].append("%s: %s" % (url, error))
                threads = [threading.Thread(target=loop, args=(url,)) for url in urls]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                print(json.dumps(result))
                """
            let stop = stopFile
            let arguments = ["-c", script, String(decoding: try! JSONEncoder().encode(urls), as: UTF8.self), stop]
            task = Task { try await Shell.run("/usr/bin/python3", arguments) }
        }

        public func stop() async throws -> Result {
            _ = FileManager.default.createFile(atPath: stopFile, contents: Data())
            let output = try await task.value
            return try JSONDecoder().decode(Result.self, from: Data(output.standardOutput.utf8))
        }
    }

    public func startClientLoop() -> ClientLoop {
        ClientLoop(urls: (0..<hosts).map { "http://\(address($0))/" }, directory: directory)
    }
}
