import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Synchronization

/// The recent history of each environment (``RecentChange``s, newest first), read through ``EnvironmentHistory``
/// and kept until the branch or the status branch moves: reading it loads the environment at each commit, which a
/// page that refreshes every few seconds must not do on every request.
final class HistoryCache: Sendable {
    private struct Entry {
        /// The tips it was read at: the branch's, and the status branch's.
        var tips: [ObjectID?]
        var changes: [RecentChange]
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Commits listed per environment.
    let limit: Int

    init(limit: Int = 5) {
        self.limit = limit
    }

    /// The recent history of `environment` in `repository`: cached, read again only when a tip moved. Empty when it
    /// cannot be read (the page shows the rest; the controller's log has the repository's errors).
    func recent(_ environment: String, in repository: WatchedRepository) -> [RecentChange] {
        let branch = "refs/remotes/origin/\(repository.branch)"
        let tips = [try? repository.repository.referenceTarget(branch),
                    (try? StatusBranch.tip(repository.repository, branch: repository.statusBranch))??.tip]
        if let cached = entries.withLock({ $0[environment] }), cached.tips == tips {
            return cached.changes
        }
        let changes = (try? EnvironmentHistory.read(environment, in: repository.repository, revision: branch,
                                                    statusBranch: repository.statusBranch, limit: limit))?
            .entries.map(RecentChange.init) ?? []
        entries.withLock { $0[environment] = Entry(tips: tips, changes: changes) }
        return changes
    }
}
