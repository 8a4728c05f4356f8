import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit a promotion: copy another environment's active pins into this one's idle slot and make it active.",
        discussion: """
            Reads both environments at the tip of the current branch, writes the idle slot's file of ENV as exactly \
            the pins of the --from environment's active slot (versions, markers, hashes), flips `active` in ENV's \
            environment.yaml (only that line changes), validates the result and commits it, as `release` does: to \
            the current branch or to a new branch (--branch) for a pull request, the work tree kept in step. The \
            message is `production: promote from staging: hello-service 1.1.0`, then the diff.

            Refused (nothing committed) when the --from environment's active slot and ENV's idle slot build with \
            different interpreters (each slot's own `python:`, or its environment's), when ENV's active slot already \
            pins the same, or when the --from environment's newest status with exactly those pins (on the status \
            branch, read as `status` reads it) says it halted on them.

            With `promotion: {from: SOURCE, soak: …}` in ENV's policy the controller applies it once the --from \
            environment ran those pins long enough; when its statuses do not show that yet, promote still commits \
            and warns with what the controller will wait for. Without such a policy it warns when the --from \
            environment never ran those pins converged and healthy.

            Exit status 0 committed, 1 refused or invalid, 2 usage error.
            """
    )

    @OptionGroup var repository: GitRepositoryOptions

    @Option(name: .long, help: ArgumentHelp("The environment whose active pins are promoted.", valueName: "env"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("Commit to this new branch, made from the current branch's tip, instead of the current branch.", valueName: "new"))
    var branch: String?

    @Option(name: .long, help: ArgumentHelp("The commit message (default: ENV: promote from SOURCE: NAME VERSION, then the diff).", valueName: "text"))
    var message: String?

    @OptionGroup var statusBranchOptions: StatusBranchOptions

    @OptionGroup var publishing: PushOptions

    @Argument(help: ArgumentHelp("The environment to promote into.", valueName: "env"))
    var environment: String

    func run() async throws {
        let repository = try self.repository.open()
        let promotion = PromoteCommit(environment: environment, from: from, newBranch: branch, message: message,
                                      statusBranch: statusBranchOptions.statusBranch)
        let result = try GitSupport.committing(in: repository) { try promotion.commit(in: repository, author: $0, committer: $1) }
        try await GitSupport.report(result, in: repository, publishing: publishing)
    }
}
