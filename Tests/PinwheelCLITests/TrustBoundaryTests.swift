import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelFleet
import PinwheelTestSupport
import Testing

/// The trust boundary, tried as a hostile contributor, an unlucky operator and a compromised host would: one
/// hostile case per rule of the README's security model that this suite covers, each against real parts (the
/// pinwheel executable, real sshd hosts on loopback, the real agent), asserting that the harm did not happen (no file
/// written, nothing run, nothing reached a host) and that the error says what was refused and why.
@Suite("Trust boundary", .serialized, .tags(.fleet, .security))
struct TrustBoundaryTests {
    static let first = 161

    func pinwheel(_ fleet: TestFleet, _ arguments: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(Array(arguments.prefix(2)) + ["--repo", fleet.config] + fleet.allowIdentityArguments + arguments.dropFirst(2))
    }

    // MARK: Nothing from git runs on the controller

    /// A pull request adds a host with `address: local`: `plan`, `apply` and `doctor` run on this machine, as this
    /// user, with every host's key at hand. Without the operator's --allow-local-hosts nothing runs here and nothing
    /// reaches any host; `validate` says what the config asks for.
    @Test func aCommitAddingALocalHostRunsNothingOnTheController() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let controllerRoot = "\(fleet.directory)/controller-root"
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "address: \(fleet.address(0))\n", with: "address: local\n")
                .replacingOccurrences(of: "root: \(fleet.hostFolder(0))/srv\n", with: "root: \(controllerRoot)\n")
        }
        for command in [["plan", "fleet"], ["apply", "fleet"], ["doctor", "fleet"], ["logs", "fleet"], ["exec", "fleet", "--", "id"]] {
            let result = try pinwheel(fleet, command)
            #expect(result.status != 0, "\(command)")
            #expect(result.stderr.contains("host \(fleet.name(0)) has `address: local`: it would run on this machine"), "\(command): \(result.stderr)")
            #expect(result.stderr.contains("--allow-local-hosts"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: controllerRoot), "nothing ran on the controller")
        #expect(!FileManager.default.fileExists(atPath: "\(fleet.hostFolder(1))/srv/.pinwheel"), "nothing reached the other host")

        let validate = try CLIRunner.run(["validate", "--repo", fleet.config])
        #expect(validate.status == 0, "a warning, not an error: \(validate.stdout)\(validate.stderr)")
        #expect(validate.stdout.contains("warning: host `\(fleet.name(0))` has `address: local`"), "\(validate.stdout)")

        // The operator allows it: then the local host is observed here.
        let allowed = try pinwheel(fleet, ["plan", "fleet", "--allow-local-hosts"])
        #expect(!allowed.stderr.contains("--allow-local-hosts"), "\(allowed.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(controllerRoot)/.pinwheel"), "\(allowed.stdout)\(allowed.stderr)")
    }

    /// The controller's first poll of a branch where a commit added a local host: nothing runs on its machine, and
    /// its log says which host was refused and what the operator would have to pass.
    @Test func theControllerRefusesALocalHostACommitAdds() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let controllerRoot = "\(fleet.directory)/controller-root"
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "address: \(fleet.address(0))\n", with: "address: local\n")
                .replacingOccurrences(of: "root: \(fleet.hostFolder(0))/srv\n", with: "root: \(controllerRoot)\n")
        }
        let config = try await ConfigRemote(from: fleet.config, in: fleet.directory)
        let watcher = try WatchProcess(remote: config.remote, allow: fleet.directory, cache: "\(fleet.directory)/cache",
                                                    log: "\(fleet.directory)/watch.log")
        defer {
            watcher.signal(SIGTERM)
            watcher.process.waitUntilExit()
        }
        let refused = try await watcher.waitFor(.hostsUnavailable, timeout: .seconds(60), where: ["code": "localHostRefused"])
        #expect(refused?["error"]?.contains(fleet.name(0)) == true, "names the host: \(watcher.text)")
        #expect(refused?["error"]?.contains("--allow-local-hosts") == true, "names the option that allows it: \(watcher.text)")
        #expect(!FileManager.default.fileExists(atPath: controllerRoot), "nothing ran on the controller")
    }

    /// A commit sets `supervisor.ctl` to a shell command line (which observing used to run through `/bin/sh -c` on
    /// every host): `validate` refuses it where it is written, `plan` loads nothing, and an agent handed it directly (as
    /// if the validator were bypassed) refuses it over real SSH; the command never runs on the host.
    @Test func aShellCommandInSupervisorCtlNeverRuns() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let valid = try fleet.environment()
        let marker = "\(fleet.directory)/ctl-ran"
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "ctl: supervisorctl -c ", with: "ctl: touch \(marker); supervisorctl -c ")
        }
        let validate = try CLIRunner.run(["validate", "--repo", fleet.config])
        #expect(validate.status == 1)
        #expect(validate.stdout.contains("Environments/fleet/environment.yaml:"), "path:line:column: \(validate.stdout)")
        #expect(validate.stdout.contains("`supervisor.ctl` of host `\(fleet.name(0))` is run as an argument vector, never by a shell"),
                "\(validate.stdout)")
        let plan = try pinwheel(fleet, ["plan", "fleet"])
        #expect(plan.status != 0)
        #expect(!FileManager.default.fileExists(atPath: marker))

        // Past the validator: the agent itself refuses, and says why.
        var host = valid.hosts[0]
        host.settings.supervisor.ctl = "touch \(marker); supervisorctl"
        host.settings.nginx.reload = "sh -c touch\(marker)"
        let agent = HostAgent(target: valid.target(for: host), python: valid.python,
                              transport: try #require(fleet.transports(for: valid)[host.name]), commit: nil)
        let error = try await #require(throws: FleetError.self) { try await agent.observe() }
        // The agent's reason is the failure's detail (the message is Pinwheel's one line: the observe failed).
        let said = error.detail ?? ""
        #expect(said.contains("supervisor.ctl"), "\(error.message) — \(said)")
        #expect(said.contains("never given to a shell"), "\(error.message) — \(said)")
        let steps = await agent.execute([.route(.a)])
        #expect(!steps.ok)
        #expect(!FileManager.default.fileExists(atPath: marker), "the configured command ran on the host")
    }

    // MARK: SSH as a careful tool

    /// The host key changes in git (the host was replaced, or someone swapped the key): the master connection made
    /// under the old key must not carry the next round trip. And a runtime folder that others can write is refused
    /// before ssh runs, so no socket is ever made where someone else could use it.
    @Test func aHostKeyChangedInGitNeverReusesTheOpenMaster() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let environment = try fleet.environment()
        let controlDirectory = "\(fleet.directory)/runtime"
        func observe() async throws -> HostObservation {
            let transports = try TransportFactory.transports(for: environment, source: DirectoryConfigSource(root: fleet.config),
                                                             controlDirectory: controlDirectory, trust: fleet.localFileTrust)
            let host = environment.hosts[0]
            return try await HostAgent(target: environment.target(for: host), python: environment.python,
                                       transport: try #require(transports[host.name]), commit: nil).observe()
        }
        _ = try await observe()
        let sockets = try FileManager.default.contentsOfDirectory(atPath: controlDirectory)
        #expect(sockets.count == 1, "a master connection stays open: \(sockets)")

        // Another host key for the same address, as a commit would put it in the known-hosts file.
        let key = "\(fleet.directory)/other_key"
        try await Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key])
        let original = try String(contentsOfFile: fleet.knownHosts, encoding: .utf8)
        let otherKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let replaced = original.split(separator: "\n").map { line in
            (line.split(separator: " ").first.map(String.init) ?? "") + " " + otherKey
        }.joined(separator: "\n") + "\n"
        try Data(replaced.utf8).write(to: URL(fileURLWithPath: fleet.knownHosts))
        let error = try await #require(throws: FleetError.self) { try await observe() }
        #expect(error.code == .hostKey, "\(error)")
        #expect(error.message.contains("its host key is not the one in \(fleet.knownHosts)"), "\(error.message)")

        // A runtime folder another user (or anyone) could write: refused, nothing connects, no socket is made.
        try Data(original.utf8).write(to: URL(fileURLWithPath: fleet.knownHosts))
        let open = "\(fleet.directory)/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        let host = environment.hosts[0]
        let transport = SSHTransport(host: host, knownHostsFile: fleet.knownHosts, controlDirectory: open)
        let refused = try await #require(throws: FleetError.self) {
            _ = try await HostAgent(target: environment.target(for: host), python: environment.python, transport: transport, commit: nil).observe()
        }
        #expect(refused.code == .unsafeRuntimeFolder)
        #expect(refused.message.contains("\(open) is writable by its group or by others"), "\(refused.message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: open).isEmpty, "no socket in a folder others can write")
    }

    // MARK: Host-side integrity

    /// A deploy root others can write (here: anyone) could have the agent Pinwheel runs replaced: every command
    /// refuses it, says why, and writes nothing there; the other host is served as usual.
    @Test func aDeployRootOthersCanWriteIsRefusedAndNothingIsWrittenThere() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let root = "\(fleet.hostFolder(0))/srv"
        chmod(root, 0o777)
        let plan = try pinwheel(fleet, ["plan", "fleet"])
        #expect(plan.status == 1)
        #expect((plan.stdout + plan.stderr).contains("\(root) is writable by its group or others (mode 777)"), "\(plan.stdout)\(plan.stderr)")
        let apply = try pinwheel(fleet, ["apply", "fleet", "--quiet"])
        #expect(apply.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty, "no agent, no build written in \(root)")
        #expect(FileManager.default.fileExists(atPath: "\(fleet.hostFolder(1))/srv/.pinwheel"), "the other host was observed as usual")
    }

    /// The compiled agent kept on a host is run only when it is the SSH user's own, not writable by others, and its
    /// header names this agent and the digest of its code: a planted file (as the app's user or anyone could write
    /// it) never runs; it is replaced.
    @Test func aTamperedCachedAgentNeverRuns() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let first = try pinwheel(fleet, ["plan", "fleet"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let cache = "\(fleet.hostFolder(0))/srv/.pinwheel"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: cache).first { $0.hasPrefix("agent-") && $0.hasSuffix(".bin") })
        let path = "\(cache)/\(name)"
        let kept = try Data(contentsOf: URL(fileURLWithPath: path))
        let marker = "\(fleet.directory)/planted-ran"
        // A well-formed file (right header, right digest) of planted code, left writable by anyone.
        let plant = """
            import marshal, sys, hashlib
            path, marker = sys.argv[1], sys.argv[2]
            header = open(path, "rb").read().split(b"\\n", 1)[0].split(b" ")
            code = marshal.dumps(compile("open(%r, 'w').close()" % marker, "planted", "exec"))
            open(path, "wb").write(b"pinwheel-agent " + header[1] + b" " + hashlib.sha256(code).hexdigest().encode() + b"\\n" + code)
            """
        try await Shell.run("/usr/bin/python3", ["-c", plant, path, marker])
        let planted = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(planted != kept && planted.starts(with: kept.prefix { $0 != 0x20 }))
        chmod(path, 0o666)
        let writable = try pinwheel(fleet, ["plan", "fleet"])
        #expect(writable.status == 0, "\(writable.stdout)\(writable.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "a kept agent others could write ran")
        var edited = Data()
        let header = kept.prefix { $0 != 0x0A }.split(separator: 0x20).prefix(2).map { String(decoding: $0, as: UTF8.self) }
        func keptAgain() throws -> Bool {
            let now = try Data(contentsOf: URL(fileURLWithPath: path))
            let words = now.prefix { $0 != 0x0A }.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
            return now != planted && now != edited && Array(words.prefix(2)) == header && words.count == 3
        }
        #expect(try keptAgain(), "replaced by the real agent")

        // The file is the user's own, mode 600, but its code is not what its header's digest says.
        edited = kept
        edited[edited.count - 1] ^= 0xFF
        try edited.write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        let corrupt = try pinwheel(fleet, ["plan", "fleet"])
        #expect(corrupt.status == 0, "\(corrupt.stdout)\(corrupt.stderr)")
        #expect(try keptAgain(), "replaced, not run")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    /// A host's own pip and uv configuration (here one that turns the index off, as an added `extra-index-url`
    /// would add one) never reaches an install: the pins come from the index the config names.
    @Test func installsIgnoreTheHostsPipAndUvConfiguration() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let home = "\(fleet.hostFolder(0))/home"
        try FileManager.default.createDirectory(atPath: "\(home)/.config/uv", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(home)/.config/pip", withIntermediateDirectories: true)
        try Data("[pip]\nno-index = true\n".utf8).write(to: URL(fileURLWithPath: "\(home)/.config/uv/uv.toml"))
        try Data("[global]\nno-index = true\n".utf8).write(to: URL(fileURLWithPath: "\(home)/.config/pip/pip.conf"))
        let apply = try pinwheel(fleet, ["apply", "fleet", "--quiet"])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try await fleet.get(0).body.contains("1.0.0"))
    }
}
