import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// Lock files as uv writes them, deployed: a requirements file that pins a package twice under exclusive markers
/// (the host's pip or uv picks by its Python), and a `pylock.toml` slot written by uv against the fleet's index.
@Suite("Lock files on a real fleet", .serialized, .tags(.fleet))
struct LockFilesOnARealFleetTests {
    static let first = 51

    @Test func aMarkerSplitRequirementsFileAndAPylockSlotAreDeployed() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: Self.first)
        let python = try fleet.environment().python
        let version = try await Shell.run(python, ["-c", "import platform; print(platform.python_version())"])
            .standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        // Slot A: 1.0.0 for Pythons before the host's, 1.1.0 for the host's and later.
        try fleet.setPins(.a, """
            hello-service==1.0.0 ; python_full_version < '\(version)'
            hello-service==1.1.0 ; python_full_version >= '\(version)'
            """)
        let first = try await fleet.apply()
        #expect(first.allSatisfy { $0.error == nil }, "\(first.map { $0.error?.message ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.contains("hello-service 1.1.0") })

        // Slot B: a pylock.toml that uv writes from the fleet's own index, pinning 2.0.0 with its wheel's hash.
        let tools = try await Shell.script("fleet-tools", []).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let lock = "\(fleet.environmentFolder)/pylock.B.toml"
        let compiled = try await Shell.run("\(tools)/bin/uv", [
            "pip", "compile", "-", "--quiet", "--format", "pylock.toml", "--python", python,
            "--index-url", "http://127.0.0.1:\(fleet.indexPort)/simple/", "--no-cache", "-o", lock,
        ], input: "hello-service==2.0.0\n")
        #expect(compiled.status == 0, "\(compiled.standardError)")
        try fleet.editEnvironment { $0.replacingOccurrences(of: "  B: B.txt\n", with: "  B: pylock.B.toml\n") }
        try fleet.setActive(.b)
        let environment = try fleet.environment()
        let pin = try #require(environment.slots.b.pin(named: "hello-service"))
        #expect(pin.version == "2.0.0" && pin.hashes.count >= 1)
        let second = try await fleet.apply()
        #expect(second.allSatisfy { $0.error == nil }, "\(second.map { $0.error?.message ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 2.0.0").allSatisfy { $0.contains("hello-service 2.0.0") })
        // The host checks each file against the lock's hashes: with a wrong one, slot B fails to prepare and the
        // slot that serves keeps serving.
        try fleet.setActive(.a)
        try fleet.setPins(.a, "hello-service==1.0.0")
        _ = try await fleet.apply()
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.contains("hello-service 1.0.0") })
        let wrong = try String(contentsOfFile: lock, encoding: .utf8)
            .replacingOccurrences(of: pin.hashes[0].dropFirst("sha256:".count), with: String(repeating: "0", count: 64))
        try fleet.write("Environments/\(fleet.environmentName)/pylock.B.toml", wrong)
        try fleet.setActive(.b)
        let failed = try await fleet.apply()
        #expect(failed.allSatisfy { $0.error != nil }, "a wheel whose hash is not in the lock was installed")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.contains("hello-service 1.0.0") })
    }
}
