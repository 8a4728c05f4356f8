import ArgumentParser
import Foundation
import PinwheelCore
import PinwheelGit

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what the controller last recorded for an environment, from the status branch (no SSH).",
        discussion: """
            Reads Environments/<env>/status.yaml at the tip of the status branch: the local branch, or \
            origin's when the local one is missing or behind it. Exit status 0 when a status was found \
            (whatever its result), 1 when the environment has no status yet, 2 on a usage error.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The config repository (a git repository).", valueName: "path"))
    var repo: String = "."

    @Option(name: .long, help: ArgumentHelp("The status branch.", valueName: "branch"))
    var branch: String = EnvironmentStatus.defaultBranch

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The environment.", valueName: "env"))
    var environment: String

    func run() throws {
        let repository = try GitSupport.open(repo)
        guard let found = try StatusBranch.tip(repository, branch: branch) else {
            StandardError.write("pinwheel: \(environment) has no status yet: there is no \(branch) branch (nor origin/\(branch)); "
                                + "the controller writes it after its first run (fetch it if it runs elsewhere)")
            throw ExitCode.failure
        }
        let (ref, tip) = found
        let path = EnvironmentStatus.path(of: environment)
        guard let data = try repository.readFile(path, at: tip) else {
            StandardError.write("pinwheel: \(environment) has no status yet: \(ref) (\(tip.short)) has no \(path)")
            throw ExitCode.failure
        }
        let status: EnvironmentStatus
        do {
            status = try EnvironmentStatus.parse(String(decoding: data, as: UTF8.self))
        } catch {
            StandardError.write("pinwheel: \(path) at \(ref) (\(tip.short)) cannot be read: \(error)")
            throw ExitCode.failure
        }
        let statusCommit = try repository.history(of: path, from: tip, limit: 1).first
        if json {
            print(try JSON.string(Output(branch: ref, commit: statusCommit?.id.hex ?? tip.hex, status: status)))
            return
        }
        print(status.summary)
        print("result:    \(status.result.rawValue)")
        print("desired:   \(status.desired)")
        print("time:      \(status.time)")
        if let active = status.active { print("active:    slot \(active)") }
        if !status.pins.isEmpty { print("pins:      \(status.pins.joined(separator: ", "))") }
        if !status.message.isEmpty { print("message:   \(status.message)") }
        if let revert = status.revert { print("revert:    \(revert)") }
        print("recorded:  \(ref) \(statusCommit?.id.short ?? tip.short)")
        if !status.hosts.isEmpty {
            print("hosts:     \(status.healthyHosts)/\(status.hosts.count) healthy on slot \(status.active?.rawValue ?? "-")")
            let width = status.hosts.keys.map(\.count).max() ?? 0
            for name in status.hosts.keys.sorted() {
                let host = status.hosts[name]!
                var line = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                line += "  serving \(host.serving?.rawValue ?? "-")  \(host.healthy ? "healthy" : "unhealthy")"
                if let error = host.error { line += "  error: \(error)" }
                print(line)
            }
        }
        for error in status.errors { print("error: \(error)") }
    }

    struct Output: Encodable {
        var branch: String
        var commit: String
        var status: EnvironmentStatus
    }
}
