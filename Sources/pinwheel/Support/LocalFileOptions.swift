import ArgumentParser
import PinwheelFleet

/// Which folders on this machine the config may name private keys and known-hosts files in.
struct LocalFileOptions: ParsableArguments {
    @Option(name: .customLong("allow-identity-dir"),
            help: ArgumentHelp("A folder whose private keys (identity:) and known-hosts files (an absolute knownHosts:) the config may use; repeatable (default ~/.ssh).",
                               valueName: "path"))
    var allowIdentityDir: [String] = []

    /// The trust these options give: the folders named, or `~/.ssh`.
    var trust: LocalFileTrust { .allowing(allowIdentityDir) }
}
