import Foundation
import PinwheelCore
import PinwheelProcess

/// Checks what one host needs for Pinwheel, in one round trip over its transport (host keys checked as always),
/// and says how to fix what is missing.
public struct HostDoctor: Sendable {
    public let host: FleetHost
    public let environment: Environment
    public let transport: any Transport
    /// The least room assumed for one slot's build.
    public var slotBytes: Int

    /// 512 MiB: a typical web service's virtualenv with its dependencies, with room to spare.
    public static let defaultSlotBytes = 512 * 1024 * 1024

    public init(host: FleetHost, environment: Environment, transport: any Transport, slotBytes: Int = HostDoctor.defaultSlotBytes) {
        self.host = host
        self.environment = environment
        self.transport = transport
        self.slotBytes = slotBytes
    }

    /// The host's checks. Never throws: a host that cannot be reached is a failed `ssh` check with its fix.
    public func examine(timeout: Duration = .seconds(120)) async -> HostCheckup {
        let request = DoctorRequest(app: environment.app, environment: environment.name, python: environment.python,
                                    interpreters: DoctorRequest.interpreters(of: environment), settings: host.settings,
                                    slotBytes: slotBytes,
                                    probed: environment.programs.contains { $0.isWeb && $0.health != nil },
                                    shippedUV: environment.source.shippedUV)
        do {
            let script = ProcessInput(try request.script())
            let started = Date().timeIntervalSince1970
            var output = try await transport.run(python: environment.python, script: script, timeout: timeout)
            var reply = DoctorReply.parse(output.standardOutput)
            if reply == nil, output.status == 127 {
                // The configured interpreter is missing: run the doctor on the host's python3, which reports it.
                output = try await transport.run(python: "python3", script: script, timeout: timeout)
                reply = DoctorReply.parse(output.standardOutput)
            }
            let answered = Date().timeIntervalSince1970
            var checks = [reachedCheck]
            guard let reply, reply.ok, let found = reply.checks else {
                let detail = reply?.error ?? Self.lastLines(output.standardError.isEmpty ? output.standardOutput : output.standardError)
                checks.append(HostCheck(name: "doctor", ok: false, detail: "the doctor did not answer (exit \(output.status)): \(detail)",
                                        fix: "make `python3` (3.8 or later) available on the host: sudo apt-get install python3"))
                return HostCheckup(host: host.name, checks: checks)
            }
            checks += found
            if let time = reply.time {
                checks.append(ClockSkew(hostTime: time, started: started, answered: answered).check)
            }
            return HostCheckup(host: host.name, checks: checks)
        } catch let error as FleetError where host.isLocal {
            return HostCheckup(host: host.name, checks: [
                HostCheck(name: "python", ok: false, detail: "cannot run the doctor with \(environment.python) on this machine: \(error.message)",
                          fix: "set `python:` in environment.yaml to this machine's interpreter (`command -v python3`)")])
        } catch let error as FleetError {
            return HostCheckup(host: host.name, checks: [sshCheck(error)])
        } catch {
            return HostCheckup(host: host.name, checks: [HostCheck(name: "ssh", ok: false, detail: "\(error)",
                                                                   fix: "run `ssh \(target)` by hand to see why")])
        }
    }

    private var target: String {
        (host.settings.user.map { "\($0)@" } ?? "") + host.address + (host.settings.port == 22 ? "" : " -p \(host.settings.port)")
    }

    private var reachedCheck: HostCheck {
        if host.isLocal {
            return HostCheck(name: "ssh", ok: true, detail: "this machine (address: local), no SSH")
        }
        return HostCheck(name: "ssh", ok: true, detail: "reached \(target) with \(host.settings.identity ?? "the SSH agent's keys"); "
                         + "its host key matches \(host.settings.knownHosts ?? "the known-hosts file")")
    }

    /// What a failed connection means and the command that fixes it.
    func sshCheck(_ error: FleetError) -> HostCheck {
        let settings = host.settings
        let knownHosts = settings.knownHosts ?? "the known-hosts file"
        let port = settings.port == 22 ? "" : "-p \(settings.port) "
        let fix: String
        switch error.code {
        case .hostKey:
            fix = "fetch the host's key with `ssh-keyscan \(port)-t ed25519 \(host.address) | tee key.txt | ssh-keygen -lf -`, "
                + "compare that fingerprint with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` run on the host's own "
                + "console (never trust a key on first use), then put the line of key.txt in \(knownHosts)"
        case .authentication:
            let key = settings.identity.map { "\($0).pub" } ?? "your public key"
            fix = "add \(key) to ~\(settings.user ?? "")/.ssh/authorized_keys on the host: ssh-copy-id -i \(key) \(port)\(settings.user.map { "\($0)@" } ?? "")\(host.address)"
        case .timeout:
            fix = "the host did not answer in time: check it is up and not overloaded (`ssh \(target) uptime`)"
        default:
            fix = "check that sshd runs on \(host.address) port \(settings.port) and that this machine reaches it: ssh \(target) true"
        }
        return HostCheck(name: "ssh", ok: false, detail: error.message, fix: fix)
    }

    static func lastLines(_ text: String) -> String {
        HostReplyBounds.string(text.split(separator: "\n").suffix(5).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
