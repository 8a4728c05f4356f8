import PinwheelGit

extension Repository {
    /// The branch HEAD is on and its tip; a detached or unborn HEAD is a usage error.
    func checkedOutBranch() throws -> (name: String, tip: ObjectID) {
        guard let name = try currentBranch() else {
            throw OperationError(.usage, "HEAD is detached: check out the branch to change first")
        }
        guard let tip = try branchTip(name) else {
            throw OperationError(.usage, "branch \(name) has no commits yet")
        }
        return (name, tip)
    }

    /// Before committing on the checked-out branch: refuses when the work tree has changes to `paths`, or when
    /// one of them is (or goes through) a symbolic link or leads outside the repository, which the work tree's
    /// update would otherwise write through.
    func requireCleanWorkTree(branch: String, paths: [String]) throws {
        guard !isBare, try currentBranch() == branch else { return }
        do {
            try requireContainedInWorkTree(paths)
        } catch {
            throw OperationError(.refused, "\(error.message); nothing was committed",
                                 hint: "Pinwheel never writes through a link: replace it with the file itself")
        }
        let dirty = try uncommittedChanges(in: paths)
        if !dirty.isEmpty {
            throw OperationError(.dirtyWorkTree, "the work tree has uncommitted changes to: " + dirty.joined(separator: ", "),
                                 hint: "commit or stash them first (git stash), then run this again")
        }
    }

    /// After committing on the checked-out branch through libgit2: brings the index and work tree up to date
    /// (only the files the commit changed), so `git status` stays clean. The commit stands either way; a
    /// failure is returned for the caller to report, not thrown.
    func syncWorkTree(branch: String, previous: ObjectID) -> GitError? {
        guard !isBare, (try? currentBranch()) == branch else { return nil }
        do {
            try updateWorkTree(from: previous)
            return nil
        } catch {
            return error
        }
    }
}
