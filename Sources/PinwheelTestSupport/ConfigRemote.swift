import Foundation

/// A config repository as people use it: a bare "remote" and a work clone that commits and pushes to it with the
/// `git` program (tests only; the product never runs git).
public final class ConfigRemote: @unchecked Sendable {
    public let remote: String
    public let work: String

    /// Makes the remote from the files of `folder` (the TestFleet's config), as the first commit on `main`.
    public init(from folder: String, in directory: String) async throws {
        remote = "\(directory)/remote.git"
        work = folder
        try await git(["init", "-q", "--bare", "-b", "main", remote], in: directory)
        try await git(["init", "-q", "-b", "main"], in: work)
        try await git(["add", "-A"], in: work)
        try await git(["commit", "-qm", "initial config"], in: work)
        try await git(["remote", "add", "origin", remote], in: work)
        try await git(["push", "-q", "origin", "main"], in: work)
    }

    /// Commits everything changed in the work clone and pushes it; returns the commit.
    @discardableResult
    public func commitAndPush(_ message: String, author: String = "Alice") async throws -> String {
        try await git(["add", "-A"], in: work)
        try await git(["-c", "user.name=\(author)", "-c", "user.email=\(author.lowercased())@example.com", "commit", "-qm", message], in: work)
        try await git(["push", "-q", "origin", "main"], in: work)
        return try await head()
    }

    /// `git revert` of `commit` (default: the last one), pushed.
    @discardableResult
    public func revertAndPush(_ commit: String = "HEAD") async throws -> String {
        try await git(["-c", "user.name=Bob", "-c", "user.email=bob@example.com", "revert", "--no-edit", commit], in: work)
        try await git(["push", "-q", "origin", "main"], in: work)
        return try await head()
    }

    /// Pulls what others (the controller) pushed.
    public func pull() async throws {
        try await git(["pull", "-q", "--rebase", "origin", "main"], in: work)
    }

    public func head() async throws -> String {
        try await git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs git in the work clone (e.g. `reset --hard HEAD~1`, `push --force`).
    @discardableResult
    public func inWork(_ arguments: [String]) async throws -> String {
        try await git(arguments, in: work)
    }

    /// Runs git in the remote (e.g. `log pinwheel/status`).
    public func inRemote(_ arguments: [String]) async throws -> String {
        try await git(arguments, in: remote)
    }

    @discardableResult
    func git(_ arguments: [String], in directory: String) async throws -> String {
        let output = try await Shell.run("/usr/bin/git", ["-C", directory, "-c", "user.name=Test", "-c", "user.email=test@example.com",
                                                          "-c", "commit.gpgsign=false"] + arguments)
        guard output.status == 0 else {
            throw Shell.ScriptFailed(command: "git " + arguments.joined(separator: " "), output: output)
        }
        return output.standardOutput
    }
}
