import ArgumentParser
import PinwheelCore
import PinwheelReleases

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what the controller last recorded for an environment, from the status branch (no SSH).",
        discussion: """
            Reads Environments/<env>/status.yaml at the tip of the status branch: the local branch, or origin's when \
            the local one is missing or behind it. Prints the result, the desired commit, the time, the active slot \
            and its pins, the message, the reason code (a held commit's admission code, `reason: windowClosed`; a \
            halted or degraded status's failure code and step, `reason: health at check B`) and an `apply \
            --override` it records, the revert the controller committed, the last applied commit, the quarantined \
            commits, and each host's serving slot, health and error. --json prints the status as data.

            Exit status 0 when a status was found (whatever its result), 1 when the environment has no status yet, 2 \
            on a usage error.
            """
    )

    @OptionGroup var repository: GitRepositoryOptions

    @OptionGroup var statusBranchOptions: StatusBranchOptions

    /// `--status-branch`'s name before every command spelled it so; accepted, with a warning, for one release
    /// (remove it after 0.2), and left out of the help, the man page and the completions.
    @Option(name: .customLong("branch"), help: .hidden)
    var deprecatedBranch: String?

    func validate() throws {
        if let deprecatedBranch, statusBranchOptions.statusBranch != EnvironmentStatus.defaultBranch,
           statusBranchOptions.statusBranch != deprecatedBranch {
            throw ExitError.usage("--branch is the old name of --status-branch: give only --status-branch")
        }
    }

    /// The status branch, by either name.
    var branch: String { deprecatedBranch ?? statusBranchOptions.statusBranch }

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func run() throws {
        if deprecatedBranch != nil {
            StandardError.write("pinwheel: warning: `status --branch` is now `--status-branch`, as in every other command; "
                                + "--branch will be removed in the next release")
        }
        let repository = try self.repository.open()
        let recorded = try GitSupport.reporting { try RecordedStatus.read(environment, in: repository, branch: branch) }
        let (ref, status) = (recorded.ref, recorded.status)
        if json {
            print(try JSON.string(Output(branch: ref, commit: recorded.commit.hex, status: status)))
            return
        }
        Terminal.print(status.summary)
        Terminal.print("result:    \(status.result.rawValue)")
        Terminal.print("desired:   \(status.desired)")
        Terminal.print("time:      \(status.time)")
        if let active = status.active { Terminal.print("active:    slot \(active)") }
        if !status.pins.isEmpty { Terminal.print("pins:      \(status.pins.joined(separator: ", "))") }
        if !status.message.isEmpty { Terminal.print("message:   \(status.message)") }
        if let reason = status.cause { Terminal.print("reason:    \(reason.code)" + (reason.step.map { " at \($0)" } ?? "")) }
        if let override = status.override { Terminal.print("override:  \(override.summary)") }
        if let revert = status.revert { Terminal.print("revert:    \(revert)") }
        if let superseded = status.superseded {
            Terminal.print("superseded by: \(superseded.by) (stopped at \(superseded.stage ?? "the start"))")
            Terminal.print("switched:  \(superseded.switched.isEmpty ? "none" : superseded.switched.joined(separator: ", "))")
            if !superseded.untouched.isEmpty { Terminal.print("not switched: \(superseded.untouched.joined(separator: ", "))") }
        }
        if let applied = status.applied, applied != status.desired { Terminal.print("applied:   \(applied)") }
        if !status.quarantined.isEmpty {
            Terminal.print("quarantined: \(status.quarantined.joined(separator: ", ")) (halted; the controller does not retry them)")
        }
        if let owner = status.owner { Terminal.print("owner:     replica \(owner.replica), lease epoch \(owner.epoch)") }
        Terminal.print("recorded:  \(ref) \(recorded.commit.short)")
        if !status.hosts.isEmpty {
            Terminal.print("hosts:     \(status.healthyHosts)/\(status.hosts.count) healthy on slot \(status.active?.rawValue ?? "-")")
            let width = status.hosts.keys.map(\.count).max() ?? 0
            for name in status.hosts.keys.sorted() {
                let host = status.hosts[name]!
                var line = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                line += "  serving \(host.serving?.rawValue ?? "-")  \(host.healthy ? "healthy" : "unhealthy")"
                if let error = host.error { line += "  error: \(error)" }
                Terminal.print(line)
            }
        }
        for error in status.errors { Terminal.print("error: \(error)") }
    }

    struct Output: Encodable {
        var branch: String
        var commit: String
        var status: EnvironmentStatus
    }
}
