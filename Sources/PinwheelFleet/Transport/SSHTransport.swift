import Foundation
import PinwheelCore
import PinwheelProcess
import Synchronization

/// Runs the agent over the system's OpenSSH client.
///
/// One multiplexed master connection per host (ControlMaster/ControlPersist) is shared by every phase of a run
/// and by the runs that follow, so a phase costs one session on an open connection, not a handshake. FleetHost keys
/// are always checked against the environment's known-hosts file, never the user's, and never skipped.
///
/// ssh reads no configuration file (`-F none`): neither `~/.ssh/config` nor `/etc/ssh/ssh_config` can add a
/// `ProxyCommand`, a `LocalCommand`, a forwarded agent or other identities. Every option is on the command line:
/// no agent, X11 or port forwarding (a compromised host cannot use the agent to reach the other hosts), no local
/// commands, only the configured key. The control sockets live in a private ``RuntimeFolder``, named by a digest of
/// everything that decides whom the connection trusts (address, port, user, the key and the known-hosts file's
/// content), so a master made before a host key changed in git is never reused after.
public struct SSHTransport: Transport {
    public var host: FleetHost
    /// The known-hosts file, as an absolute path on this machine.
    public var knownHostsFile: String
    /// Where the control sockets live; short, because a socket path is limited to 107 bytes.
    public var controlDirectory: String
    public var connectTimeout: Int
    /// Whether to share (and leave) a master connection; `doctor` makes a new connection each time, so the host's key
    /// and the login are really checked, and leaves no master behind.
    public var multiplexed: Bool
    /// The control socket's name in `controlDirectory`: see ``controlName(host:knownHostsFile:)``.
    public var controlName: String

    public init(host: FleetHost, knownHostsFile: String, controlDirectory: String = SSHTransport.defaultControlDirectory,
                connectTimeout: Int = 10, multiplexed: Bool = true) {
        self.host = host
        self.knownHostsFile = knownHostsFile
        self.controlDirectory = controlDirectory
        self.connectTimeout = connectTimeout
        self.multiplexed = multiplexed
        controlName = Self.controlName(host: host, knownHostsFile: knownHostsFile)
    }

    /// The private runtime folder (see ``RuntimeFolder/defaultPath(environment:)``).
    public static var defaultControlDirectory: String { RuntimeFolder.defaultPath() }

    /// 24 hex digits of the SHA-256 of the address, port, user, the identity file's path and content, and the
    /// known-hosts file's content: a change to any of them (a host key replaced in git, another key) gives a new
    /// master connection, never the one made under the old trust.
    public static func controlName(host: FleetHost, knownHostsFile: String) -> String {
        let settings = host.settings
        var material = Data("pinwheel-control\0\(host.address)\0\(settings.port)\0\(settings.user ?? "")\0".utf8)
        if let identity = settings.identity {
            material += Data("\(identity)\0".utf8)
            material += Data(ContentDigest.hex(of: FileManager.default.contents(atPath: identity) ?? Data()).utf8)
        }
        material += Data("\0\(knownHostsFile)\0".utf8)
        material += Data(ContentDigest.hex(of: FileManager.default.contents(atPath: knownHostsFile) ?? Data()).utf8)
        return String(ContentDigest.hex(of: material).prefix(24))
    }

    public func interactive(python: String, script: ProcessInput) async throws -> Int32 {
        try RuntimeFolder.prepare(controlDirectory)
        // A TTY on the host, and the script in the command line: standard input is the person's.
        let command = "exec \(Self.quote(python)) -I -S -c \(Self.quote(Self.interactiveProgram(script)))"
        let status = try await CommandRunner.interactive("/usr/bin/ssh", arguments(command: command, terminal: true))
        if status == 255 {
            throw FleetError(.unreachable, "\(host.name) (\(host.address):\(host.settings.port)) is unreachable, or its host key or the key was refused (ssh exited with 255)")
        }
        return status
    }

    /// The options every connection gets, whatever the user's or the system's ssh configuration says.
    static let fixedOptions = [
        "BatchMode=yes",
        "StrictHostKeyChecking=yes",
        "GlobalKnownHostsFile=/dev/null",
        "UpdateHostKeys=no",
        "CheckHostIP=no",
        "VerifyHostKeyDNS=no",
        "ForwardAgent=no",
        "ForwardX11=no",
        "ClearAllForwardings=yes",
        "Tunnel=no",
        "PermitLocalCommand=no",
        "ProxyCommand=none",
        "ProxyJump=none",
        "AddKeysToAgent=no",
        "ServerAliveInterval=5",
        "ServerAliveCountMax=3",
        "LogLevel=ERROR",
    ]

    /// The `ssh` arguments, up to and including the remote command.
    func arguments(python: String) -> [String] {
        // -I -S: the agent uses the standard library only, so neither the environment (PYTHONPATH) nor site-packages
        // can change what it runs, and it starts faster.
        arguments(command: "exec \(Self.quote(python)) -I -S -", terminal: false)
    }

    /// The `ssh` arguments for `command` (which passes through the login shell: every word in it is quoted).
    func arguments(command: String, terminal: Bool) -> [String] {
        let settings = host.settings
        var arguments = ["-F", "none", terminal ? "-tt" : "-T"]
        for option in Self.fixedOptions {
            arguments += ["-o", option]
        }
        arguments += [
            "-o", "UserKnownHostsFile=\(knownHostsFile)",
            "-o", "ConnectTimeout=\(connectTimeout)",
            "-p", String(settings.port),
        ]
        arguments += multiplexed
            ? ["-o", "ControlMaster=auto", "-o", "ControlPath=\(controlDirectory)/\(controlName)", "-o", "ControlPersist=300"]
            : ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        if let identity = settings.identity {
            arguments += ["-i", identity, "-o", "IdentitiesOnly=yes"]
        }
        if let user = settings.user {
            arguments += ["-l", user]
        }
        arguments += ["--", host.address, command]
        return arguments
    }

    public func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        try RuntimeFolder.prepare(controlDirectory)
        let errors = Mutex<[String]>([])
        let status = try await CommandRunner.stream("/usr/bin/ssh", arguments(python: python), input: script) { output in
            if output.isError { errors.withLock { $0 = Array(($0 + [output.text]).suffix(20)) } }
            await line(output)
        }
        if status == 255 {
            throw Self.classify(errors.withLock { $0 }.joined(separator: "\n"), host: host, knownHostsFile: knownHostsFile)
        }
        return status
    }

    public func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
        try RuntimeFolder.prepare(controlDirectory)
        let output: CommandOutput
        do {
            output = try await CommandRunner.run("/usr/bin/ssh", arguments(python: python), input: script, timeout: timeout)
        } catch let error as FleetError {
            throw FleetError(error.code, "\(host.name): \(error.message)")
        } catch {
            throw FleetError(.unreachable, "\(host.name): cannot run ssh: \(error)")
        }
        if output.status == 255 {
            throw Self.classify(output.standardError, host: host, knownHostsFile: knownHostsFile)
        }
        return output
    }

    /// Turns ssh's own failure (exit 255) into an error a person can act on.
    static func classify(_ stderr: String, host: FleetHost, knownHostsFile: String) -> FleetError {
        let text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let target = "\(host.name) (\(host.address):\(host.settings.port))"
        if text.contains("Host key verification failed") || text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
            || text.contains("No ED25519 host key is known") || text.contains("host key for") {
            return FleetError(.hostKey, "\(target): its host key is not the one in \(knownHostsFile); "
                + "Pinwheel never connects to a host it cannot verify (check the host, then update the known-hosts file): \(text)")
        }
        if text.contains("Permission denied") {
            return FleetError(.authentication, "\(target): the host refused the key: \(text)")
        }
        return FleetError(.unreachable, "\(target) is unreachable: \(text.isEmpty ? "ssh exited with 255" : text)")
    }

    static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
