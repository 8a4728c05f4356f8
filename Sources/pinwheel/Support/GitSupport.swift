import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit

/// What the git-side commands (`status`, `release`, `rollback`, `history`) share.
enum GitSupport {
    /// Opens the repository; an unreadable one is a usage error (exit 2).
    static func open(_ path: String) throws -> Repository {
        do {
            return try Repository(openingAt: path)
        } catch {
            throw UsageError("\(error)")
        }
    }

    /// An environment at one commit.
    enum Loaded {
        case missing
        case invalid([Diagnostic])
        case valid(Environment)

        var environment: Environment? {
            if case .valid(let environment) = self { return environment }
            return nil
        }
    }

    static func load(_ name: String, in repository: Repository, at commit: ObjectID, overlay: [String: Data] = [:]) throws -> Loaded {
        var source: any ConfigSource = CommitConfigSource(repository: repository, commit: commit)
        if !overlay.isEmpty { source = OverlayConfigSource(base: source, files: overlay) }
        let loader = ConfigLoader(source: source)
        guard try loader.environmentNames().contains(name) else { return .missing }
        let report = try loader.load([name])
        guard let environment = report.environments[name], !report.hasErrors else { return .invalid(report.diagnostics) }
        return .valid(environment)
    }

    /// The branch HEAD is on and its tip; detached or unborn HEADs are usage errors.
    static func currentBranch(_ repository: Repository) throws -> (name: String, tip: ObjectID) {
        guard let name = try repository.currentBranch() else {
            throw UsageError("HEAD is detached: check out the branch to change first")
        }
        guard let tip = try repository.branchTip(name) else {
            throw UsageError("branch \(name) has no commits yet")
        }
        return (name, tip)
    }

    /// Who commits: GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL, else git config's user.name/user.email; the
    /// committer likewise from GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL, else the author.
    static func signatures(_ repository: Repository) throws -> (author: Signature, committer: Signature) {
        let environment = ProcessInfo.processInfo.environment
        let configured = repository.defaultSignature()
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let offset = TimeZone.current.secondsFromGMT() / 60
        guard let name = nonEmpty("GIT_AUTHOR_NAME") ?? configured?.name,
              let email = nonEmpty("GIT_AUTHOR_EMAIL") ?? configured?.email else {
            throw UsageError("who is committing? set git config user.name and user.email (or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL)")
        }
        let author = Signature(name: name, email: email, date: Date(), timeZoneOffsetMinutes: offset)
        let committer = Signature(name: nonEmpty("GIT_COMMITTER_NAME") ?? name, email: nonEmpty("GIT_COMMITTER_EMAIL") ?? email,
                                  date: author.date, timeZoneOffsetMinutes: offset)
        return (author, committer)
    }

    /// Before committing on the checked-out branch: refuse when the work tree has changes to `paths`.
    static func requireCleanWorkTree(_ repository: Repository, branch: String, paths: [String]) throws {
        guard !repository.isBare, try repository.currentBranch() == branch else { return }
        let dirty = try repository.uncommittedChanges(in: paths)
        if !dirty.isEmpty {
            StandardError.write("pinwheel: the work tree has uncommitted changes to: " + dirty.joined(separator: ", "))
            StandardError.write("pinwheel: commit or stash them first (git stash), then run this again")
            throw ExitCode.failure
        }
    }

    /// After committing on the checked-out branch through libgit2: bring the index and work tree up to date
    /// (only the files the commit changed), so `git status` stays clean.
    static func syncWorkTree(_ repository: Repository, branch: String, previous: ObjectID) {
        guard !repository.isBare, (try? repository.currentBranch()) == branch else { return }
        do {
            try repository.updateWorkTree(from: previous)
        } catch {
            StandardError.write("pinwheel: warning: the commit was made, but the work tree was not updated: \(error)")
            StandardError.write("pinwheel: bring it up to date with `git checkout HEAD -- .` once your changes are saved")
        }
    }

    /// Pushes `branch` to `remote`; ssh remotes authenticate with the ssh-agent, against ~/.ssh/known_hosts.
    static func push(_ repository: Repository, branch: String, remote: String) async throws {
        guard let url = try repository.remoteURL(remote) else {
            throw UsageError("no remote named \(remote)")
        }
        var options = RemoteOptions(deadline: .seconds(60))
        if let user = sshUser(url) { options.credentials = .sshAgent(user: user) }
        do {
            try await repository.push(branch: branch, to: remote, options: options)
            print("pushed \(branch) to \(remote)")
        } catch {
            if error.code == .nonFastForward {
                StandardError.write("pinwheel: \(remote) rejected the push: its \(branch) has commits this one does not "
                                    + "(non-fast-forward). The commit is kept locally; fetch, rebuild the change on the new tip and push again.")
            } else {
                StandardError.write("pinwheel: push failed: \(error)")
            }
            throw ExitCode.failure
        }
    }

    /// The SSH user of an ssh remote URL (`ssh://user@host/...` or `user@host:path`), nil for others.
    static func sshUser(_ url: String) -> String? {
        if url.hasPrefix("ssh://") {
            let rest = url.dropFirst("ssh://".count)
            if let at = rest.firstIndex(of: "@"), !rest[..<at].contains("/") { return String(rest[..<at]) }
            return ProcessInfo.processInfo.environment["USER"] ?? "git"
        }
        if !url.contains("://"), let at = url.firstIndex(of: "@"), url[at...].contains(":") {
            return String(url[..<at])
        }
        return nil
    }

    /// A git time with its recorded offset, ISO 8601 (`2024-05-01T10:00:00+02:00`).
    static func time(_ signature: Signature) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(secondsFromGMT: signature.timeZoneOffsetMinutes * 60) ?? .gmt
        return formatter.string(from: signature.date)
    }

    static func printDiagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { print(diagnostic) }
    }
}
