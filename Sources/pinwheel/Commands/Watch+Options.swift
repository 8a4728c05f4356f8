import PinwheelGit

extension Watch {
    /// The parts of the shared option groups `watch` reads by name.
    var repo: String { remote.repo }
    var gitKnownHosts: String? { remote.gitKnownHosts }
    var credentials: RemoteOptions.Credentials { remote.credentials }
    var statusBranch: String { statusBranchOptions.statusBranch }
    var gitTokenEnvironment: String? { remote.gitTokenEnvironment }
}
