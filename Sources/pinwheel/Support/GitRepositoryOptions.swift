import ArgumentParser
import PinwheelGit

/// `--repo` as the commands that read or commit through git take it (`diff`, `status`, `release`, `rollback`,
/// `promote`): a git repository on this machine.
struct GitRepositoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config repository (a git repository).", valueName: "path"))
    var repo: String = "."

    /// The repository; an unreadable one is a usage error (exit status 2).
    func open() throws -> Repository {
        try GitSupport.open(repo)
    }
}
