import ArgumentParser
import PinwheelFleet

/// Which folders on this machine the config may name private keys and known-hosts files in, and whether hosts with
/// `address: local` may run here.
struct LocalFileOptions: ParsableArguments {
    @Option(name: .customLong("allow-identity-dir"),
            help: ArgumentHelp("A folder whose private keys (identity:) and known-hosts files (an absolute knownHosts:) the config may use; repeatable (default ~/.ssh).",
                               valueName: "path"))
    var allowIdentityDir: [String] = []

    @Flag(name: .customLong("allow-local-hosts"),
          help: "Run hosts with `address: local` on this machine, as this user (refused without it: a commit could add one).")
    var allowLocalHosts = false

    /// The trust these options give: the folders named, or `~/.ssh`, and local hosts only when allowed.
    var trust: LocalFileTrust { .allowing(allowIdentityDir, localHosts: allowLocalHosts) }
}
