import Foundation
import Testing
@testable import PinwheelCore

/// A source that refuses some paths as links, as the real sources do, and records what was read.
private final class RefusingSource: ConfigSource, @unchecked Sendable {
    let base: InMemorySource
    let links: Set<String>
    private(set) var read: [String] = []

    init(_ files: [String: String], links: Set<String>) {
        base = InMemorySource(files)
        self.links = links
    }

    private func refuse(_ path: String) throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : "\(prefix)/\(component)"
            if links.contains(prefix) { throw ConfigSourceError.symlink(prefix) }
        }
    }

    func readFile(_ path: String) throws -> Data? {
        try refuse(path)
        read.append(path)
        return try base.readFile(path)
    }

    func entries(of path: String) throws -> [ConfigEntry]? {
        try refuse(path)
        return try base.entries(of: path)
    }
}

@Suite("Containment: links are refused at path:1:1")
struct ContainmentTests {
    private func diagnostics(links: Set<String>) throws -> [String] {
        let source = RefusingSource(Fixture.files, links: links)
        return try ConfigLoader(source: source).load().diagnostics.map(\.description)
    }

    @Test(arguments: [Fixture.slotAPath, Fixture.environmentPath, Fixture.policyPath, "Environments/prod/known_hosts", "Environments/prod"])
    func aLinkIsReportedAtItsPath(_ link: String) throws {
        let found = try diagnostics(links: [link])
        let refusal = found.filter { $0.hasPrefix("\(link):1:1: error: ") && $0.contains("symlinks are not allowed") }
        #expect(refusal.count == 1, "\(found)")
        // The refusal is the only thing said about a missing file: no "does not exist" on top.
        #expect(!found.contains { $0.contains("does not exist") || $0.contains("has no environment.yaml") }, "\(found)")
    }

    @Test func aLinkedEnvironmentsFolderIsReported() throws {
        let found = try diagnostics(links: ["Environments"])
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("Environments:1:1: error: `Environments` is a symbolic link") == true, "\(found)")
    }

    @Test func quotesOfALineAreCut() {
        let secret = "root:$6$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ:20228:0:99999:7:::"
        let log = DiagnosticLog()
        _ = RequirementsParser(path: "A.txt", log: log).parse(secret + "\n")
        #expect(!log.diagnostics.isEmpty)
        for diagnostic in log.diagnostics {
            #expect(!diagnostic.description.contains(secret))
            #expect(!diagnostic.description.contains("ABCDEFGHIJ:20228"), "\(diagnostic)")
        }
        #expect(Quote.excerpt(String(repeating: "x", count: 41)) == String(repeating: "x", count: 40) + "…")
        #expect(Quote.excerpt("short") == "short")
    }

    @Test func yamlQuotesAreCut() throws {
        var files = Fixture.files
        let long = "a-value-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on"
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(of: "active: A", with: "active: \(long)")
        let found = try Fixture.load(files).diagnostics.map(\.description)
        #expect(found.contains { $0.contains("found `\(long.prefix(40))…`") }, "\(found)")
        #expect(!found.contains { $0.contains(long) })
    }
}
