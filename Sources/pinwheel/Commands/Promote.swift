import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit
import PinwheelReleases

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit a promotion: copy another environment's active pins into this one's idle slot and make it active.",
        discussion: """
            Reads both environments at the tip of the current branch, writes the idle slot's file of ENV as the \
            pins of the --from environment's active slot (exactly: versions, markers, hashes), flips `active` in \
            ENV's environment.yaml (only that line changes), validates the result and commits it, to the current \
            branch or to a new branch (--branch) for a pull request. Refused when the --from environment's active \
            slot and ENV's idle slot use different interpreters, ENV already runs those pins, or the --from \
            environment's statuses on the status branch say it halted on them. With `promotion: {from:, soak:}` in \
            ENV's policy the controller applies it once the --from environment ran the same pins long enough; until \
            then promote commits with a warning that says what the controller will wait for. Exit status 0 \
            committed, 1 refused or invalid, 2 usage error.
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
