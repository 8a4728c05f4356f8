import ArgumentParser

/// `--repo` for a command that only reads the repository and may read it from elsewhere (`history`): a path, or a
/// URL read through a temporary clone.
struct RepositoryLocationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config repository: a path, or a URL (file://, ssh://) read through a temporary clone.",
                                            valueName: "path|url"))
    var repo: String = "."

    /// The repository, opened in place or cloned; ``RemoteRepository/close()`` removes a clone.
    func open() async throws -> RemoteRepository {
        try await RemoteRepository.open(repo)
    }
}
