import ArgumentParser
import Foundation
import Logging
import PinwheelController
import PinwheelCoordination
import PinwheelCore
import PinwheelWebhooks

/// `watch --coordination`: several controllers sharing one fleet through PostgreSQL. Without `--coordination` nothing
/// here applies and the controller acts alone, as it always has.
struct CoordinationOptions: ParsableArguments {
    /// Where the password is read when no file is given: never from the URL or the command line.
    static let passwordVariable = "PINWHEEL_COORDINATION_PASSWORD"

    @Option(name: .customLong("coordination"),
            help: ArgumentHelp("Share the fleet with other controllers through this PostgreSQL database: each environment is acted on by one replica at a time, under a lease (the password from --coordination-password-file or $\(passwordVariable), never in the URL).",
                               valueName: "postgres://user@host[:port]/database[?sslmode=disable]"))
    var coordination: String?

    @Option(name: .customLong("coordination-password-file"),
            help: ArgumentHelp("File holding the coordination database's password (one line).", valueName: "path"))
    var passwordFile: String?

    @Option(name: .customLong("replica"),
            help: ArgumentHelp("This controller's name among the replicas (default: the machine's name and the process id).", valueName: "name"))
    var replica: String?

    @Option(name: .customLong("lease-duration"),
            help: ArgumentHelp("How long an environment's lease lasts after its last renewal: another replica takes over only after it.", valueName: "duration"))
    var leaseDuration = "15s"

    @Option(name: .customLong("renew-deadline"),
            help: ArgumentHelp("How long a replica acts without a successful renewal before it stops (at most 90% of the lease duration).", valueName: "duration"))
    var renewDeadline = "10s"

    @Option(name: .customLong("retry-period"),
            help: ArgumentHelp("How often a replica heartbeats, renews and tries to acquire (at most half the renew deadline).", valueName: "duration"))
    var retryPeriod = "2s"

    func validate() throws {
        guard let coordination else {
            if passwordFile != nil || replica != nil {
                throw ExitError.usage("--coordination-password-file and --replica go with --coordination")
            }
            return
        }
        do {
            _ = try CoordinationSettings(url: coordination)
        } catch {
            throw ExitError.usage("--coordination: \(error.description)")
        }
        guard let timing else { throw ExitError.usage("lease durations are written like 500ms, 10s, 1m") }
        if let problem = timing.problem { throw ExitError.usage(problem) }
        if let replica, !Self.isValidName(replica) {
            throw ExitError.usage("--replica must be 1 to 64 letters, digits, `.`, `_`, `:` or `-`")
        }
    }

    var timing: LeaseTiming? {
        guard let duration = ConfigDuration(parsing: leaseDuration), let deadline = ConfigDuration(parsing: renewDeadline),
              let retry = ConfigDuration(parsing: retryPeriod) else { return nil }
        return LeaseTiming(duration: duration, renewDeadline: deadline, retryPeriod: retry)
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_:".unicodeScalars.contains($0)
        }
    }

    /// The replica's lease keeper, connected once to say at start why the database cannot be used; nil without
    /// `--coordination`. The password comes from the file or the environment; the secret list gains it for redaction.
    func keeper(logger: Logger) async throws -> (keeper: LeaseKeeper, password: String?)? {
        guard let coordination, let timing else { return nil }
        let password = try passwordSource.loadIfSet()
        let settings: CoordinationSettings
        do {
            settings = try CoordinationSettings(url: coordination, password: password)
        } catch {
            throw ExitError.usage("--coordination: \(error.description)")
        }
        let name = replica ?? Self.defaultReplica
        let keeper = LeaseKeeper(replica: name, settings: settings, timing: timing, logger: logger)
        do {
            try await keeper.check()
        } catch {
            throw ExitError.usage("--coordination: \(error)")
        }
        return (keeper, password)
    }

    /// Where the password is read.
    var passwordSource: SecretSource { Self.passwordSource(file: passwordFile) }

    /// Where the coordination database's password is read, for `watch` and `apply` alike: the file given, or else
    /// `$PINWHEEL_COORDINATION_PASSWORD`.
    static func passwordSource(file: String?) -> SecretSource {
        SecretSource(name: "the coordination database's password", place: file.map { .file($0) } ?? .environment(passwordVariable),
                     option: file == nil ? "$\(passwordVariable)" : "--coordination-password-file")
    }

    /// The machine's name and the process id: two controllers started on one machine by mistake are two replicas,
    /// never one name acting twice.
    static var defaultReplica: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "replica"
        let safe = String(host.unicodeScalars.filter { isValidName(String($0)) }.prefix(40).map(Character.init))
        return "\(safe.isEmpty ? "replica" : safe)-\(getpid())"
    }
}
