import ArgumentParser
import PinwheelConfig
import PinwheelCore

/// Where the config comes from: the files on disk, or a commit of the repository read through libgit2.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config repository (a folder; a git repository when --rev is given).", valueName: "path"))
    var repo: String = "."

    @Option(name: .long, help: ArgumentHelp("Read the config at this commit (branch, tag, SHA, HEAD~1) instead of the files on disk.", valueName: "rev"))
    var rev: String?

    /// The config source these options name.
    func source() throws -> any ConfigSource {
        if let rev {
            do {
                return try CommitConfigSource(repositoryPath: repo, revision: rev)
            } catch {
                throw ExitError.usage("\(error)")
            }
        }
        return DirectoryConfigSource(root: repo)
    }
}
