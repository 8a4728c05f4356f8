import ArgumentParser
import Foundation
import PinwheelConfig
import PinwheelCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a new config repository: an environment, its policy, the nginx pieces and a README.",
        discussion: """
            Writes README.md (the release and rollback flow, preparing a host), Environments/<env>/ (a commented \
            environment.yaml, A.txt and B.txt, a known_hosts without keys that says how to fetch and verify each \
            host's), Policies/<env>.yaml (the defaults, commented) and nginx/ (the http-level include, a placeholder \
            upstream, the server block's lines) into PATH (default `.`, created when missing), then says what to do \
            next. --app defaults to PATH's folder name; --hosts takes ADDRESS or NAME=ADDRESS items. A slot file \
            must pin something to validate, so without --pin it pins a placeholder `<app>==0.0.0` to replace with \
            the output of `uv pip compile --generate-hashes`.

            The files are checked with the same loader as `pinwheel validate` before any is written. known_hosts \
            starts without keys on purpose: Pinwheel never trusts a key on first use. init never overwrites a file: \
            nothing is written when one of them exists already.

            Exit status 0 written, 1 when the options make a repository that would not validate, 2 on a usage error \
            or an existing file.
            """
    )

    @Argument(help: ArgumentHelp("Where to write the repository (created when missing).", valueName: "path"))
    var path: String = "."

    @Option(help: ArgumentHelp("The app's name (a letter, then letters, digits, - or _); default: the folder's name.", valueName: "name"))
    var app: String?

    @Option(help: ArgumentHelp("The hosts, comma-separated: ADDRESS or NAME=ADDRESS.", valueName: "a,b,c"))
    var hosts: String?

    @Option(help: ArgumentHelp("The environment's name.", valueName: "name"))
    var env: String = "production"

    @Option(name: .customLong("pin"),
            help: ArgumentHelp("An exact pin for both slot files (NAME==VERSION), repeatable; default: a placeholder <app>==0.0.0 to replace.",
                               valueName: "pin"))
    var pins: [String] = []

    func run() throws {
        let root = URL(fileURLWithPath: path).standardizedFileURL
        let template = try makeTemplate(folderName: root.lastPathComponent)
        let files = template.files
        let existing = files.map(\.path).filter { exists(root.appendingPathComponent($0).path) }
        if !existing.isEmpty {
            throw ExitError.usage("\(root.path) already has \(existing.joined(separator: ", ")); pinwheel init never overwrites a file "
                             + "(to add an environment to an existing repository, choose another PATH and copy what you need)")
        }
        try check(files, environment: template.environment)
        try write(files, in: root)
        print("wrote a config repository in \(root.path):")
        for file in files { print("  \(file.path)") }
        print(nextSteps(template, root: root.path))
    }

    /// The template the options describe; bad names and addresses are usage errors, before anything is checked.
    func makeTemplate(folderName: String) throws -> ConfigTemplate {
        let app = self.app ?? folderName
        guard ValueRules.isIdentifier(app) else {
            throw ExitError.usage(self.app == nil
                ? "the folder name `\(folderName)` is not an app name; give one with --app (a letter, then letters, digits, - or _)"
                : "--app must be a name: a letter, then letters, digits, - or _ (63 at most), found `\(app)`")
        }
        guard ValueRules.isIdentifier(env) else {
            throw ExitError.usage("--env must be a name: a letter, then letters, digits, - or _ (63 at most), found `\(env)`")
        }
        let pins = self.pins.isEmpty
            ? ["# A placeholder so the repository validates: replace it with the service's real pins before the first deploy.",
               "\(app)==0.0.0"]
            : self.pins
        for pin in self.pins where pin.contains("\n") || pin.contains("#") {
            throw ExitError.usage("--pin takes one NAME==VERSION, found `\(pin)`")
        }
        return ConfigTemplate(app: app, environment: env, hosts: try parseHosts(), pins: pins)
    }

    func parseHosts() throws -> [ConfigTemplate.Host] {
        guard let hosts else {
            return [ConfigTemplate.Host(name: "web-01", address: "web-01.example.invalid")]
        }
        var result: [ConfigTemplate.Host] = []
        for (index, item) in hosts.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let item = item.trimmingCharacters(in: .whitespaces)
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let address = parts.last ?? ""
            guard ValueRules.isAddress(address), address != "local" || parts.count == 2 else {
                throw ExitError.usage("--hosts: `\(item)` is not an address (an IPv4 or IPv6 address, a DNS name, or NAME=ADDRESS)")
            }
            var name = parts.count == 2 ? parts[0] : Self.name(for: address, index: index)
            if parts.count == 1, result.contains(where: { $0.name == name }) {
                name = ValueRules.isHostName(address) ? address : String(format: "web-%02d", index + 1)
            }
            guard ValueRules.isHostName(name) else {
                throw ExitError.usage("--hosts: `\(name)` is not a host name (letters, digits, ., -, _)")
            }
            guard !result.contains(where: { $0.name == name }) else {
                throw ExitError.usage("--hosts: \(name) is named twice")
            }
            result.append(ConfigTemplate.Host(name: name, address: address))
        }
        return result
    }

    /// A DNS name's first label (`web-01` of `web-01.example.com`); `web-NN` for an IP address.
    static func name(for address: String, index: Int) -> String {
        if ValueRules.isDNSName(address), let label = address.split(separator: ".").first, ValueRules.isHostName(String(label)) {
            return String(label)
        }
        return String(format: "web-%02d", index + 1)
    }

    /// Validates the files as they will be on disk, through the loader `validate` uses, in a temporary folder of
    /// their own; prints what is wrong.
    func check(_ files: [(path: String, text: String)], environment: String) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pinwheel-init-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let report = try wrapUsage {
            try write(files, in: scratch)
            return try ConfigLoader(source: DirectoryConfigSource(root: scratch.path)).load([environment])
        }
        if report.hasErrors {
            for diagnostic in report.diagnostics { print(diagnostic) }
            throw ExitError.failed("the repository these options make would not validate; nothing was written")
        }
    }

    /// Writes every file under `root`, never replacing one.
    func write(_ files: [(path: String, text: String)], in root: URL) throws {
        for file in files {
            let url = root.appendingPathComponent(file.path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                // withoutOverwriting: a file that appeared since the check is still never replaced.
                try Data(file.text.utf8).write(to: url, options: .withoutOverwriting)
            } catch {
                throw ExitError.usage("cannot write \(url.path): \(error.localizedDescription)")
            }
        }
    }

    func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    func nextSteps(_ template: ConfigTemplate, root: String) -> String {
        let env = template.environment
        let repo = root == FileManager.default.currentDirectoryPath ? "" : " --repo \(root)"
        return """

            next:
              1. Pin the service in both slots: uv pip compile --generate-hashes requirements.in -o \(template.folder)/A.txt
                 (and the same for B.txt), and set `programs.web.command` in \(template.folder)/environment.yaml.
              2. Add each host's SSH key to \(template.folder)/known_hosts, verifying its fingerprint as that file says:
                 Pinwheel never trusts a key on first use.
              3. Prepare each host's nginx: nginx/ holds the http-level include, a placeholder upstream and the lines for
                 your server block; README.md ("Preparing a host") says where each goes.
              4. pinwheel validate\(repo) && pinwheel doctor \(env)\(repo)   (doctor names what each host still lacks)
              5. git init, commit, push; then run the controller: pinwheel watch --repo <its URL>
            """
    }
}
