import Foundation
import PinwheelCore
import Synchronization

/// Runs the agent over the system's OpenSSH client.
///
/// One multiplexed master connection per host (ControlMaster/ControlPersist) is shared by every phase of a run
/// and by the runs that follow, so a phase costs one session on an open connection, not a handshake. FleetHost keys
/// are always checked against the environment's known-hosts file, never the user's, and never skipped.
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

    public init(host: FleetHost, knownHostsFile: String, controlDirectory: String = SSHTransport.defaultControlDirectory,
                connectTimeout: Int = 10, multiplexed: Bool = true) {
        self.host = host
        self.knownHostsFile = knownHostsFile
        self.controlDirectory = controlDirectory
        self.connectTimeout = connectTimeout
        self.multiplexed = multiplexed
    }

    public static var defaultControlDirectory: String { "/tmp/pinwheel-ssh-\(getuid())" }

    public func interactive(python: String, script: String) async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: controlDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var arguments = arguments(python: python)
        // A TTY on the host, and the script in the command line: standard input is the person's.
        arguments[arguments.count - 1] = "exec \(Self.quote(python)) -I -S -c \(Self.quote(Self.interactiveProgram(script)))"
        arguments[0] = "-tt"
        let status = try await CommandRunner.interactive("/usr/bin/ssh", arguments)
        if status == 255 {
            throw FleetError(.unreachable, "\(host.name) (\(host.address):\(host.settings.port)) is unreachable, or its host key or the key was refused (ssh exited with 255)")
        }
        return status
    }

    /// The `ssh` arguments, up to and including the remote command.
    func arguments(python: String) -> [String] {
        let settings = host.settings
        var arguments = [
            "-T",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=\(knownHostsFile)",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "UpdateHostKeys=no",
            "-o", "ConnectTimeout=\(connectTimeout)",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3",
            "-o", "LogLevel=ERROR",
            "-p", String(settings.port),
        ]
        arguments += multiplexed
            ? ["-o", "ControlMaster=auto", "-o", "ControlPath=\(controlDirectory)/%C", "-o", "ControlPersist=300"]
            : ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        if let identity = settings.identity {
            arguments += ["-i", identity, "-o", "IdentitiesOnly=yes"]
        }
        if let user = settings.user {
            arguments += ["-l", user]
        }
        // The remote command passes through the login shell: the interpreter path is validated to need no
        // quoting, and is quoted anyway.
        // -I -S: the agent uses the standard library only, so neither the environment (PYTHONPATH) nor site-packages
        // can change what it runs, and it starts faster.
        arguments += ["--", host.address, "exec \(Self.quote(python)) -I -S -"]
        return arguments
    }

    public func stream(python: String, script: String, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: controlDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
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

    public func run(python: String, script: String, timeout: Duration) async throws -> CommandOutput {
        try FileManager.default.createDirectory(atPath: controlDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
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
