import ArgumentParser
import PinwheelConfig
import PinwheelCore
import PinwheelFleet

/// What the commands that reach an environment's hosts (`plan`, `apply`, `doctor`, `logs`, `exec`) take to find them:
/// the config (`--repo`, `--rev`), the folders it may name SSH keys in, and the environment.
struct HostTargetOptions: ParsableArguments {
    @OptionGroup var repository: RepositoryOptions

    @OptionGroup var localFiles: LocalFileOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    /// The valid environment with the source it was read from; prints the errors and exits 1 when invalid.
    func desired() throws -> (Environment, any ConfigSource) {
        try repository.environment(environment)
    }

    /// A transport to each host of `desired`; a key or known-hosts file outside the allowed folders is a usage error.
    func transports(for desired: Environment, source: any ConfigSource, multiplexed: Bool = true) throws -> [String: any Transport] {
        try wrapUsage { try TransportFactory.transports(for: desired, source: source, trust: localFiles.trust, multiplexed: multiplexed) }
    }

    /// The commit the config was read at, which the hosts record; nil for the files on disk.
    static func commit(of source: any ConfigSource) -> String? {
        (source as? CommitConfigSource)?.commit.hex
    }
}
