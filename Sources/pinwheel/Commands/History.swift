import ArgumentParser
import PinwheelCore
import PinwheelReleases

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the changes to an environment, newest first, with what the controller recorded for each.",
        discussion: """
            For auditors: every commit on the branch that changed Environments/<env>/ or the policy file it \
            uses (Policies/<policy>.yaml, named at the branch tip), with its author, committer, summary, what it \
            changed in the desired state, and each status the controller committed for it on the status branch \
            (when applied, result, healthy hosts).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The config repository (a git repository).", valueName: "path"))
    var repo: String = "."

    @Option(name: .long, help: ArgumentHelp("The branch (or any revision) to read (default: the current branch).", valueName: "branch"))
    var branch: String?

    @Option(name: .long, help: ArgumentHelp("The status branch.", valueName: "branch"))
    var statusBranch: String = EnvironmentStatus.defaultBranch

    @Option(name: .long, help: ArgumentHelp("At most this many changes.", valueName: "n"))
    var limit: Int = 20

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let repository = try GitSupport.open(repo)
        let history = try GitSupport.reporting {
            try EnvironmentHistory.read(environment, in: repository, revision: branch, statusBranch: statusBranch, limit: limit)
        }
        if json {
            print(try JSON.string(history))
            return
        }
        if history.entries.isEmpty {
            print("\(environment): no change on \(history.branch)")
            return
        }
        for (index, entry) in history.entries.enumerated() {
            if index > 0 { print("") }
            print("\(entry.commit.prefix(10))  \(entry.summary)")
            print("  author:    \(entry.author.name) <\(entry.author.email)> \(entry.author.time)")
            if entry.committer != entry.author {
                print("  committer: \(entry.committer.name) <\(entry.committer.email)> \(entry.committer.time)")
            }
            for change in entry.changes { print("  - \(change)") }
            if entry.applied.isEmpty {
                print("  applied:   not recorded on \(statusBranch)")
            }
            for applied in entry.applied {
                var line = "  applied:   \(applied.time)  \(applied.result)"
                if let healthy = applied.healthyHosts, let hosts = applied.hosts { line += "  \(healthy)/\(hosts) hosts" }
                if let revert = applied.revert { line += "  reverted by \(revert.prefix(10))" }
                print(line)
            }
        }
    }
}
