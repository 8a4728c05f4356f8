import Foundation
import Testing
@testable import PinwheelCore

/// The README and docs/ as a reader meets them: every relative link leads to a file (and heading) that exists, and
/// every config example is one Pinwheel accepts.
///
/// A ```yaml block says what it is in its info string, which GitHub does not show: `file=PATH` is that whole file of
/// a config repository, `fragment=PATH` replaces the top-level keys it has in that file, `with=PATH:FIXTURE` adds a
/// file the example needs but does not show (from `Tests/PinwheelCoreTests/Fixtures/`), and `not-config` is YAML that
/// is no Pinwheel config (a status file, a workflow). Each example is put into this repository's own example config
/// (`Environments/`, `Policies/`) and validated with the loader `pinwheel validate` uses.
@Suite("Documentation: links and config examples")
struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md and every docs/*.md, by path from the repository's root.
    static func documents() throws -> [String: MarkdownDocument] {
        var paths = ["README.md"]
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
        paths += docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
        var documents: [String: MarkdownDocument] = [:]
        for path in paths {
            documents[path] = MarkdownDocument(try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8))
        }
        return documents
    }

    @Test func everyRelativeLinkResolvesToAFileAndAHeading() throws {
        let documents = try Self.documents()
        #expect(documents.count >= 9, "README.md and the docs/ pages: \(documents.keys.sorted())")
        var checked = 0
        for (path, document) in documents.sorted(by: { $0.key < $1.key }) {
            for link in document.links where !Self.isExternal(link.target) {
                checked += 1
                let parts = link.target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let folder = (path as NSString).deletingLastPathComponent
                let file = parts[0].isEmpty ? path : Self.normalized(folder.isEmpty ? parts[0] : folder + "/" + parts[0])
                let url = Self.root.appendingPathComponent(file)
                #expect(FileManager.default.fileExists(atPath: url.path), "\(path):\(link.line): \(link.target): no file \(file)")
                guard parts.count == 2, file.hasSuffix(".md") else { continue }
                let target = try documents[file] ?? MarkdownDocument(String(contentsOf: url, encoding: .utf8))
                #expect(target.anchors.contains(parts[1]), "\(path):\(link.line): \(link.target): \(file) has no heading #\(parts[1])")
            }
        }
        #expect(checked >= 30, "the relative links found: \(checked)")
    }

    @Test func everyConfigExampleValidates() throws {
        let base = try Self.exampleConfig()
        var validated = 0
        for (path, document) in try Self.documents().sorted(by: { $0.key < $1.key }) {
            for fence in document.fences where fence.language == "yaml" {
                let place = "\(path):\(fence.line)"
                if fence.attributes["not-config"] != nil { continue }
                var files = base
                let target: String
                if let file = fence.attributes["file"] {
                    target = file
                    files[file] = fence.text
                } else if let file = fence.attributes["fragment"] {
                    target = file
                    let original = try #require(base[file], "\(place): fragment of \(file), which the example config does not have")
                    files[file] = Self.replacingTopLevelKeys(of: original, with: fence.text)
                } else {
                    Issue.record("\(place): a ```yaml block without file=PATH, fragment=PATH or not-config")
                    continue
                }
                if let extra = fence.attributes["with"] {
                    for item in extra.split(separator: ",") {
                        let pair = item.split(separator: ":", maxSplits: 1).map(String.init)
                        try #require(pair.count == 2, "\(place): with= takes PATH:FIXTURE")
                        files[pair[0]] = try String(contentsOf: Self.root.appendingPathComponent("Tests/PinwheelCoreTests/Fixtures/\(pair[1])"),
                                                    encoding: .utf8)
                    }
                }
                // An environment's file: that environment; a policy: every environment, whichever uses it.
                let components = target.split(separator: "/").map(String.init)
                let names = components.first == "Environments" && components.count > 2 ? [components[1]] : []
                let report = try ConfigLoader(source: InMemorySource(files)).load(names)
                let errors = report.diagnostics.filter { $0.severity == .error }
                #expect(errors.isEmpty, "\(place) (as \(target)):\n\(errors.map(\.description).joined(separator: "\n"))")
                validated += 1
            }
        }
        #expect(validated >= 8, "config examples validated: \(validated)")
    }

    /// The repository's own Environments/ and Policies/, by path.
    static func exampleConfig() throws -> [String: String] {
        var files: [String: String] = [:]
        for folder in ["Environments", "Policies"] {
            let url = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) else { continue }
            for case let file as URL in walker where (try file.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
                let relative = folder + "/" + file.path.dropFirst(url.path.count + 1)
                files[relative] = try String(contentsOf: file, encoding: .utf8)
            }
        }
        return files
    }

    /// `original` without the top-level keys `fragment` sets (each key's line and the indented lines under it), then
    /// the fragment.
    static func replacingTopLevelKeys(of original: String, with fragment: String) -> String {
        func key(_ line: Substring) -> String? {
            guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        }
        let replaced = Set(fragment.split(separator: "\n").compactMap(key))
        var kept: [Substring] = []
        var dropping = false
        for line in original.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first != " " {
                dropping = key(line).map(replaced.contains) ?? false
            }
            if !dropping { kept.append(line) }
        }
        return kept.joined(separator: "\n") + "\n" + fragment
    }

    static func isExternal(_ target: String) -> Bool {
        ["http://", "https://", "mailto:"].contains { target.hasPrefix($0) }
    }

    /// `docs/../README.md` → `README.md`.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(part) }
        }
        return parts.joined(separator: "/")
    }

    // MARK: the checker itself

    @Test func anchorsAreGitHubs() {
        #expect(MarkdownDocument.anchor("Following an apply: live progress and `--json`") == "following-an-apply-live-progress-and---json")
        #expect(MarkdownDocument.anchor("`Policies/<name>.yaml`") == "policiesnameyaml")
        #expect(MarkdownDocument.anchor("Audit: `pinwheel history`") == "audit-pinwheel-history")
        #expect(MarkdownDocument.anchor("See [the docs](docs/a.md) now") == "see-the-docs-now")
        let document = MarkdownDocument("# Notes\n\n## Notes\n\n```sh\n# not a heading\n```\n")
        #expect(document.anchors == ["notes", "notes-1"])
    }

    @Test func linksOutsideCodeAndFencesWithTheirInfoString() {
        let document = MarkdownDocument("""
            See [a](docs/a.md#x) and ![b](b.png "title"), not `[c](c.md)`.

            ```yaml file=Policies/p.yaml
            rollout: {canary: 1}
              echo '```'
            ```
            [d](#d)
            """)
        #expect(document.links == [.init(target: "docs/a.md#x", line: 1), .init(target: "b.png", line: 1), .init(target: "#d", line: 7)])
        #expect(document.fences == [.init(language: "yaml", attributes: ["file": "Policies/p.yaml"],
                                          text: "rollout: {canary: 1}\n  echo '```'\n", line: 3)])
    }

    @Test func aFragmentReplacesOnlyTheKeysItSets() {
        let original = "# a comment\napp: hello\nslots:\n  A: A.txt\n  B: B.txt\npolicy: p\n"
        let merged = Self.replacingTopLevelKeys(of: original, with: "slots: {A: a.toml, B: b.toml}\n")
        #expect(merged == "# a comment\napp: hello\npolicy: p\n\nslots: {A: a.toml, B: b.toml}\n")
    }
}
