import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelGit

/// An environment as one commit has it (optionally with some files replaced, to validate a change before
/// committing it).
public enum EnvironmentAtCommit: Sendable {
    /// The commit has no such environment.
    case missing
    /// The environment is there but invalid.
    case invalid([Diagnostic])
    case valid(Environment)

    /// The environment when it is valid.
    public var environment: Environment? {
        if case .valid(let environment) = self { return environment }
        return nil
    }

    /// Loads and validates environment `name` at `commit`, with `overlay`'s files (path → content) replacing
    /// the commit's.
    public static func load(_ name: String, in repository: Repository, at commit: ObjectID,
                            overlay: [String: Data] = [:]) throws -> EnvironmentAtCommit {
        var source: any ConfigSource = CommitConfigSource(repository: repository, commit: commit)
        if !overlay.isEmpty { source = OverlayConfigSource(base: source, files: overlay) }
        let loader = ConfigLoader(source: source)
        let names: [String]
        do {
            names = try loader.environmentNames()
        } catch let error as ConfigSourceError {
            return .invalid([error.diagnostic])
        }
        guard names.contains(name) else { return .missing }
        let report = try loader.load([name])
        guard let environment = report.environments[name], !report.hasErrors else { return .invalid(report.diagnostics) }
        return .valid(environment)
    }
}
