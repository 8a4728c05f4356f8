import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases

/// What the git-side commands (`status`, `release`, `rollback`, `history`) share: opening the repository,
/// reporting the library's refusals, pushing.
enum GitSupport {
    /// Opens the repository; an unreadable one is a usage error (exit 2).
    static func open(_ path: String) throws -> Repository {
        do {
            return try Repository(openingAt: path)
        } catch {
            throw ExitError.usage("\(error)")
        }
    }

    /// Runs a library operation, turning its ``OperationError`` into what the tool prints and exits with:
    /// a usage error exits 2; anything else prints the message (and the config's diagnostics, on standard
    /// output) and exits 1.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as OperationError {
            throw reported(error)
        }
    }

    /// Makes the commit `make` prepares (a release, promotion or revert) as the configured author and committer
    /// (`CommitIdentity`), with ``reporting(_:)``'s handling of the library's refusals.
    static func committing<T>(in repository: Repository, _ make: (_ author: Signature, _ committer: Signature) throws -> T) throws -> T {
        try reporting {
            let (author, committer) = try CommitIdentity.resolve(repository)
            return try make(author, committer)
        }
    }

    /// ``reporting(_:)`` for an operation that awaits (checking signatures runs ssh-keygen).
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as OperationError {
            throw reported(error)
        }
    }

    /// Prints `error` and returns what the tool exits with.
    private static func reported(_ error: OperationError) -> any Error {
        if error.code == .usage { return ExitError.usage(error.message) }
        StandardError.write("pinwheel: \(error.message)")
        if let hint = error.hint { StandardError.write("pinwheel: \(hint)") }
        printDiagnostics(error.diagnostics)
        return ExitError.failed
    }

    /// Prints what a release or a promotion committed (warnings, the commit, the diff) and pushes it when asked.
    static func report(_ result: ReleaseCommit.Result, in repository: Repository, publishing: PushOptions) async throws {
        for warning in result.warnings { StandardError.write("pinwheel: warning: \(warning)") }
        reportWorkTree(result.workTreeError)
        print("committed \(result.commit.hex) on \(result.branch)")
        for line in result.diff { print(line) }
        if publishing.push {
            try await push(repository, branch: result.branch, remote: publishing.remote)
        }
    }

    /// After a commit on the checked-out branch whose work tree could not be updated: says so, and how to fix it.
    static func reportWorkTree(_ error: GitError?) {
        guard let error else { return }
        StandardError.write("pinwheel: warning: the commit was made, but the work tree was not updated: \(error)")
        StandardError.write("pinwheel: bring it up to date with `git checkout HEAD -- .` once your changes are saved")
    }

    /// Pushes `branch` to `remote`; ssh remotes authenticate with the ssh-agent, against ~/.ssh/known_hosts.
    static func push(_ repository: Repository, branch: String, remote: String) async throws {
        guard let url = try repository.remoteURL(remote) else {
            throw ExitError.usage("no remote named \(remote)")
        }
        var options = RemoteOptions(deadline: .seconds(60))
        if let user = sshUser(url) { options.credentials = .sshAgent(user: user) }
        do {
            try await repository.push(branch: branch, to: remote, options: options)
            print("pushed \(branch) to \(remote)")
        } catch {
            if error.code == .nonFastForward {
                throw ExitError.failed("\(remote) rejected the push: its \(branch) has commits this one does not "
                                       + "(non-fast-forward). The commit is kept locally; fetch, rebuild the change on the new tip and push again.")
            }
            throw ExitError.failed("push failed: \(error)")
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

    static func printDiagnostics(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { print(diagnostic) }
    }
}
