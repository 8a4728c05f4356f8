import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// A slot on an interpreter of its own: upgrading Python is a release into the idle slot, and switching back
/// is a rollback to the warm slot on the old interpreter.
@Suite("Per-slot Python on a real fleet", .serialized, .tags(.fleet))
struct PerSlotPythonOnARealFleetTests {
    static let first = 16

    /// A Python 3 on this machine other than Debian's /usr/bin/python3 (pyenv's, on the machines this runs on).
    static func otherInterpreter() -> String? {
        let home = ProcessInfo.processInfo.environment["PYENV_ROOT"] ?? "\(NSHomeDirectory())/.pyenv"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "\(home)/versions")) ?? [])
            .filter { $0.hasPrefix("3.1") }.sorted().reversed()
        let debian = URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path
        return versions.map { "\(home)/versions/\($0)/bin/python3" }.first { path in
            FileManager.default.isExecutableFile(atPath: path) && URL(fileURLWithPath: path).resolvingSymlinksInPath().path != debian
        }
    }

    /// The bytecode tag (`sys.implementation.cache_tag`, `cpython-312`) of the interpreter at `path`.
    static func cacheTag(of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-I", "-c", "import sys; print(sys.implementation.cache_tag)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func upgradingPythonIsAReleaseAndSwitchingBackARollback() async throws {
        guard let other = Self.otherInterpreter() else {
            Issue.record("this test needs a second Python 3 (pyenv's under ~/.pyenv/versions) besides /usr/bin/python3")
            return
        }
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        _ = try await fleet.apply()
        let before = try await fleet.get(0, path: "/python")
        #expect(before.body.hasSuffix(" /usr"), "\(before.body)")

        try fleet.editEnvironment { $0.replacingOccurrences(of: "  B: B.txt\n", with: "  B: {pins: B.txt, python: \(other)}\n") }
        try fleet.setActive(.b)
        let reports = try await fleet.apply()
        #expect(reports.allSatisfy { $0.outcome == .changed }, "\(reports.map { $0.error?.message ?? "" })")
        // The agent compiled the slot's bytecode in its own interpreter's format, having asked it (uv did not): the
        // build's manifest says so.
        let tag = try Self.cacheTag(of: other)
        for index in 0..<fleet.hosts {
            let path = "\(fleet.hostFolder(index))/srv/fleet/slots/B/manifest.json"
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            let bytecode = try #require(manifest["bytecode"] as? [String: Any], "\(manifest)")
            #expect(bytecode["by"] as? String == "agent" && bytecode["tag"] as? String == tag, "\(bytecode)")
            #expect((bytecode["compiled"] as? Int ?? 0) > 0, "\(bytecode)")
        }
        let prefix = URL(fileURLWithPath: other).deletingLastPathComponent().deletingLastPathComponent().path
        for index in 0..<fleet.hosts {
            let answer = try await fleet.get(index, path: "/python", from: "B")
            #expect(answer.slot == "B")
            #expect(answer.body.hasSuffix(" \(prefix)"), "\(answer.body)")
        }
        // Back to A: the warm slot on the old interpreter, switched in the observing round trip.
        try fleet.setActive(.a)
        let back = try await fleet.reconciler().reconcile()
        #expect(back.outcome.result == .converged)
        #expect(back.hosts.allSatisfy { $0.phases.flatMap(\.requested) == [.verify(.a), .route(.a)] }, "\(back.hosts.map(\.phases))")
        let after = try await fleet.get(0, path: "/python", from: "A")
        #expect(after.body.hasSuffix(" /usr"), "\(after.body)")
    }
}
