import Foundation
import PinwheelGit

/// The repository a read-only command (`history`) reads: opened in place for a path, or, for a URL as `watch`
/// takes (`file://`, `ssh://`, `user@host:path`), cloned bare into a temporary folder that ``close()`` removes.
struct RemoteRepository {
    let repository: Repository
    /// The temporary clone's folder, nil for a repository opened in place.
    let temporary: String?

    static func open(_ location: String) async throws -> RemoteRepository {
        guard isURL(location) else { return RemoteRepository(repository: try GitSupport.open(location), temporary: nil) }
        var template = Array((NSTemporaryDirectory() + "/pinwheel-clone.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw UsageError("cannot create a temporary folder to clone \(RemoteURL.redacted(location)) into: \(String(cString: strerror(errno)))")
        }
        let folder = String(cString: made)
        var options = RemoteOptions(deadline: .seconds(120))
        if let user = GitSupport.sshUser(location) { options.credentials = .sshAgent(user: user) }
        do {
            let repository = try await Repository.clone(from: location, to: folder + "/repository.git", bare: true, options: options)
            return RemoteRepository(repository: repository, temporary: folder)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw UsageError("cannot read \(RemoteURL.redacted(location)): \(error)")
        }
    }

    /// Whether `location` is a URL rather than a path.
    static func isURL(_ location: String) -> Bool {
        if location.contains("://") { return true }
        guard let colon = location.firstIndex(of: ":"), let at = location.firstIndex(of: "@") else { return false }
        return at < colon && !location[..<colon].contains("/")
    }

    /// The revision that names `branch`: in a clone, the remote's branch when there is no local one.
    func revision(_ branch: String) -> String {
        func exists(_ ref: String) -> Bool { ((try? repository.referenceTarget(ref)) ?? nil) != nil }
        guard temporary != nil, !exists("refs/heads/\(branch)"), exists("refs/remotes/origin/\(branch)") else { return branch }
        return "refs/remotes/origin/\(branch)"
    }

    /// Removes the temporary clone, if any.
    func close() {
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
    }
}
