import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit a release: pin new versions in the idle slot and make it active.",
        discussion: """
            Reads the environment at the tip of the current branch, writes the idle slot's file as the active \
            slot's pins with the given versions, flips `active` in environment.yaml (only that line changes), \
            validates the result and commits it, to the current branch or to a new branch (--branch) for a pull \
            request. When the current branch is checked out in a work tree, the committed files are written there \
            too (it refuses when those files have uncommitted changes). Exit status 0 committed, 1 refused or \
            invalid, 2 usage error.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The config repository (a git repository).", valueName: "path"))
    var repo: String = "."

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
        guard !packages.isEmpty else { throw UsageError("name at least one NAME==VERSION to release") }
        var changes: [ReleasePlan.Change] = []
        for text in packages {
            do {
                changes.append(try ReleasePlan.Change.parse(text))
            } catch {
                StandardError.write("pinwheel: \(error)")
                throw ExitCode.failure
            }
        }
        let repository = try GitSupport.open(repo)
        let (current, tip) = try GitSupport.currentBranch(repository)
        if let branch, try repository.branchTip(branch) != nil {
            throw UsageError("branch \(branch) already exists: name a new branch")
        }

        let before: Environment
        switch try GitSupport.load(environment, in: repository, at: tip) {
        case .valid(let environment):
            before = environment
        case .invalid(let diagnostics):
            StandardError.write("pinwheel: \(environment) is not valid at \(current) (\(tip.short)); fix it before releasing:")
            GitSupport.printDiagnostics(diagnostics)
            throw ExitCode.failure
        case .missing:
            throw UsageError("no environment `\(environment)` at \(current) (\(tip.short))")
        }
        let environmentPath = ReleasePlan.environmentPath(environment)
        guard let text = try repository.readFile(environmentPath, at: tip).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw UsageError("cannot read \(environmentPath) at \(tip.short)")
        }
        let plan: ReleasePlan
        do {
            plan = try ReleasePlan.make(environment: before, environmentText: text, changes: changes)
        } catch {
            StandardError.write("pinwheel: \(error)")
            throw ExitCode.failure
        }
        for warning in plan.warnings { StandardError.write("pinwheel: warning: \(warning)") }

        // Validate exactly what will be committed.
        let overlay = plan.files.mapValues { Data($0.utf8) }
        let loadedAfter = try GitSupport.load(environment, in: repository, at: tip, overlay: overlay)
        guard let after = loadedAfter.environment else {
            StandardError.write("pinwheel: the release would make \(environment) invalid; nothing was committed:")
            if case .invalid(let diagnostics) = loadedAfter { GitSupport.printDiagnostics(diagnostics) }
            throw ExitCode.failure
        }
        let diff = EnvironmentDiff.changes(from: before, to: after)
        let (author, committer) = try GitSupport.signatures(repository)
        let commitMessage = message.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }
            ?? ReleasePlan.defaultMessage(environment: environment, changes: changes, diff: diff)
        let fileChanges = plan.files.keys.sorted().map { FileChange.write($0, Data(plan.files[$0]!.utf8)) }

        let target = branch ?? current
        let commit: ObjectID
        if let branch {
            try repository.setReference("refs/heads/\(branch)", to: tip, logMessage: "pinwheel release: branch from \(current)")
            do {
                commit = try repository.commit(changes: fileChanges, onBranch: branch, message: commitMessage, author: author,
                                               committer: committer, expectedParent: .some(tip))
            } catch {
                try? repository.deleteReference("refs/heads/\(branch)")
                throw error
            }
        } else {
            try GitSupport.requireCleanWorkTree(repository, branch: current, paths: plan.files.keys.sorted())
            commit = try repository.commit(changes: fileChanges, onBranch: current, message: commitMessage, author: author,
                                           committer: committer, expectedParent: .some(tip))
            GitSupport.syncWorkTree(repository, branch: current, previous: tip)
        }
        print("committed \(commit.hex) on \(target)")
        for line in diff { print(line) }
        if publishing.push {
            try await GitSupport.push(repository, branch: target, remote: publishing.remote)
        }
    }
}
