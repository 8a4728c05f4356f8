import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit a release: pin new versions in the idle slot and make it active.",
        discussion: """
            Reads the environment at the tip of the current branch and writes the idle slot's file as the active \
            slot's pins with the given versions: each must be pinned already (names compared as PEP 503 normalises \
            them); the hashes of a changed pin are dropped, and then every hash of that file, with a warning. Only \
            the `active:` line of environment.yaml changes. When the slot's `python:` names its version, only the \
            pin that Python gets changes (with a warning that the others stay); when it does not and the file pins \
            the package under markers, release refuses to guess: regenerate the lock. A `pylock.*.toml` slot is \
            never edited (its files' names, sizes and hashes come from a locker): commit the regenerated lock and \
            flip `active` instead.

            The result is validated before anything is committed, to the current branch or to a new branch made from \
            its tip (--branch) for a pull request. The author is GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, or git \
            config's user.name and user.email. When the current branch is checked out in a work tree, the committed \
            files are written there and to the index too, so `git status` stays clean (refused, before committing, \
            when those files have uncommitted changes). --push pushes the branch to --remote.

            Exit status 0 committed, 1 refused or invalid, 2 usage error.
            """
    )

    @OptionGroup var repository: GitRepositoryOptions

    @Option(name: .long, help: ArgumentHelp("Commit to this new branch, made from the current branch's tip, instead of the current branch.", valueName: "new"))
    var branch: String?

    @Option(name: .long, help: ArgumentHelp("The commit message (default: ENV: release NAME VERSION, then the diff).", valueName: "text"))
    var message: String?

    @OptionGroup var publishing: PushOptions

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    @Argument(help: ArgumentHelp("The versions to release, each pinned in the active slot already.", valueName: "name==version"))
    var packages: [String] = []

    func run() async throws {
        guard !packages.isEmpty else { throw ExitError.usage("name at least one NAME==VERSION to release") }
        var changes: [ReleasePlan.Change] = []
        for text in packages {
            do {
                changes.append(try ReleasePlan.Change.parse(text))
            } catch {
                throw ExitError.failed("\(error)")
            }
        }
        let repository = try self.repository.open()
        let release = ReleaseCommit(environment: environment, changes: changes, newBranch: branch, message: message)
        let result = try GitSupport.committing(in: repository) { try release.commit(in: repository, author: $0, committer: $1) }
        try await GitSupport.report(result, in: repository, publishing: publishing)
    }
}
