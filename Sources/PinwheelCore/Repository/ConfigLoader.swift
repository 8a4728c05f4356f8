import Foundation

/// Reads and validates environments and policies from a config repository.
///
/// The same loader serves `validate`, `show`, `diff` and the controller, so that what is validated is exactly
/// what gets deployed.
public struct ConfigLoader {
    public static let environmentsFolder = "Environments"
    public static let policiesFolder = "Policies"

    private let source: any ConfigSource

    public init(source: any ConfigSource) {
        self.source = source
    }

    /// Raised when a caller names an environment the repository does not have.
    public struct UnknownEnvironment: Error, CustomStringConvertible {
        public var name: String
        public var known: [String]

        public var description: String {
            let list = known.isEmpty ? "there are none" : "there are: " + known.joined(separator: ", ")
            return "no environment `\(name)` in \(ConfigLoader.environmentsFolder)/ (\(list))"
        }
    }

    /// The names of the environments, sorted: the folders of `Environments/` (and links there, which are
    /// reported as errors when the environment is loaded).
    public func environmentNames() throws -> [String] {
        try (source.entries(of: Self.environmentsFolder) ?? []).filter { $0.isDirectory || $0.isSymlink }.map(\.name).sorted()
    }

    /// The names of the policies, sorted: the `.yaml` files of `Policies/`.
    public func policyNames() throws -> [String] {
        try (source.entries(of: Self.policiesFolder) ?? [])
            .filter { !$0.isDirectory && $0.name.hasSuffix(".yaml") }
            .map { String($0.name.dropLast(".yaml".count)) }
            .sorted()
    }

    /// Validates the named environments (all when `names` is empty) and the policies they use; with no names,
    /// every policy is validated too, used or not.
    public func load(_ names: [String] = []) throws -> ConfigReport {
        let log = DiagnosticLog()
        var report = ConfigReport()
        // A linked `Environments/` or `Policies/` is reported, and nothing else is read.
        let environmentsFolder = Self.folder(Self.environmentsFolder, in: source, log: log)
        let policiesFolder = Self.folder(Self.policiesFolder, in: source, log: log)
        if case .failed = environmentsFolder {
            report.diagnostics = log.diagnostics
            return report
        }
        if case .failed = policiesFolder {
            report.diagnostics = log.diagnostics
            return report
        }
        let known = try environmentNames()
        for name in names where !known.contains(name) {
            throw UnknownEnvironment(name: name, known: known)
        }
        if case .missing = environmentsFolder {
            log.error("there is no \(Self.environmentsFolder)/ folder", at: SourceLocation(path: Self.environmentsFolder),
                      hint: "a config repository holds Environments/<name>/environment.yaml and Policies/<name>.yaml")
        }
        let policyNames = try policyNames()
        var policies = PolicyCache(source: source, log: log, known: policyNames)
        if names.isEmpty {
            for name in policyNames {
                _ = policies.lookup(name)
            }
        }
        for name in names.isEmpty ? known : names {
            if let environment = loadEnvironment(name, log: log, policies: &policies) {
                report.environments[name] = environment
            }
        }
        report.policies = policies.valid
        report.diagnostics = log.diagnostics.sorted { $0.location < $1.location }
        return report
    }

    /// One environment's desired state; throws `ConfigError` with every problem when it is not valid.
    public func environment(_ name: String) throws -> Environment {
        let report = try load([name])
        guard let environment = report.environments[name], !report.hasErrors else {
            throw ConfigError(diagnostics: report.diagnostics)
        }
        return environment
    }

    private func loadEnvironment(_ name: String, log: DiagnosticLog, policies: inout PolicyCache) -> Environment? {
        let folder = "\(Self.environmentsFolder)/\(name)"
        let path = "\(folder)/environment.yaml"
        guard let text = readText(path, log: log) else {
            if case .missing = Self.read(path, from: source, log: log) {
                log.error("environment `\(name)` has no environment.yaml", at: SourceLocation(path: path),
                          hint: "every folder of Environments/ is an environment; add its environment.yaml or remove the folder")
            }
            return nil
        }
        guard let document = YAMLDocument.parse(text, path: path, log: log) else { return nil }
        var cache = policies
        defer { policies = cache }
        let context = EnvironmentParser.Context(
            folder: folder,
            readFile: { Self.read($0, from: source, log: log) },
            policy: { cache.lookup($0) }
        )
        return EnvironmentParser(name: name, reader: ConfigReader(document: document, log: log), context: context).parse()
    }

    /// What reading one file of the repository gave.
    enum FileRead {
        case data(Data)
        case missing
        /// Refused or unreadable; the error is already reported.
        case failed
    }

    /// Reads `path`, reporting a refusal (a link, a path outside the repository) once, at the offending path's
    /// line 1, column 1, and any other read error at the file.
    static func read(_ path: String, from source: any ConfigSource, log: DiagnosticLog) -> FileRead {
        do {
            return try source.readFile(path).map { .data($0) } ?? .missing
        } catch let error as ConfigSourceError {
            report(error, log: log)
            return .failed
        } catch {
            let diagnostic = Diagnostic(at: SourceLocation(path: path), "cannot read the file: \(error)")
            if !log.diagnostics.contains(diagnostic) { log.append(contentsOf: [diagnostic]) }
            return .failed
        }
    }

    /// Whether a folder of the repository is there, reporting a refusal as `read` does.
    static func folder(_ path: String, in source: any ConfigSource, log: DiagnosticLog) -> FileRead {
        do {
            return try source.entries(of: path) == nil ? .missing : .data(Data())
        } catch let error as ConfigSourceError {
            report(error, log: log)
            return .failed
        } catch {
            log.error("cannot read the folder: \(error)", at: SourceLocation(path: path))
            return .failed
        }
    }

    private static func report(_ error: ConfigSourceError, log: DiagnosticLog) {
        let diagnostic = error.diagnostic
        if !log.diagnostics.contains(diagnostic) { log.append(contentsOf: [diagnostic]) }
    }

    private func readText(_ path: String, log: DiagnosticLog) -> String? {
        guard case .data(let data) = Self.read(path, from: source, log: log) else { return nil }
        guard let text = String(data: data, encoding: .utf8) else {
            log.error("the file is not UTF-8 text", at: SourceLocation(path: path), hint: "save it as UTF-8")
            return nil
        }
        return text
    }

    /// Parses each policy once, however many environments use it, so its errors are reported once.
    private struct PolicyCache {
        let source: any ConfigSource
        let log: DiagnosticLog
        let known: [String]
        var results: [String: Policy?] = [:]

        var valid: [String: Policy] { results.compactMapValues { $0 } }

        mutating func lookup(_ name: String) -> EnvironmentParser.PolicyLookup {
            if let cached = results[name] {
                return cached.map { .found($0) } ?? .invalid
            }
            guard known.contains(name) else { return .missing(known: known) }
            let path = "\(ConfigLoader.policiesFolder)/\(name).yaml"
            var policy: Policy?
            if case .data(let data) = ConfigLoader.read(path, from: source, log: log) {
                if let text = String(data: data, encoding: .utf8) {
                    let errorsBefore = log.diagnostics.count
                    if ValueRules.isIdentifier(name) {
                        if let document = YAMLDocument.parse(text, path: path, log: log) {
                            policy = PolicyParser(reader: ConfigReader(document: document, log: log)).parse(name: name)
                        }
                    } else {
                        log.error("the policy name `\(name)` is not a valid name", at: SourceLocation(path: path),
                                  hint: "rename the file: a letter, then letters, digits, `-` or `_`")
                    }
                    if log.diagnostics.count != errorsBefore { policy = nil }
                } else {
                    log.error("the file is not UTF-8 text", at: SourceLocation(path: path))
                }
            }
            results[name] = .some(policy)
            return policy.map { .found($0) } ?? .invalid
        }
    }
}

/// What validating a config repository found.
public struct ConfigReport: Sendable {
    /// The environments that are valid, by name.
    public var environments: [String: Environment] = [:]
    /// The policies that are valid, by name.
    public var policies: [String: Policy] = [:]
    /// Every problem found, sorted by file and position.
    public var diagnostics: [Diagnostic] = []

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}
