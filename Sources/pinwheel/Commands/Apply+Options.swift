extension Apply {
    /// The parts of the shared option groups `apply` reads by name.
    var repository: RepositoryOptions { target.repository }
    var localFiles: LocalFileOptions { target.localFiles }
    var environment: String { target.environment }
    var statusBranch: String { statusBranchOptions.statusBranch }
}
