extension History {
    /// The parts of the shared option groups `history` reads by name.
    var repo: String { location.repo }
    var statusBranch: String { statusBranchOptions.statusBranch }
}
