import ArgumentParser
import PinwheelCore

/// `--status-branch`: where the controller records what it did, named the same in every command that reads or
/// writes it (`apply`, `history`, `promote`, `status`, `watch`).
struct StatusBranchOptions: ParsableArguments {
    @Option(name: .customLong("status-branch"),
            help: ArgumentHelp("The branch the controller records statuses on.", valueName: "branch"))
    var statusBranch: String = EnvironmentStatus.defaultBranch
}
