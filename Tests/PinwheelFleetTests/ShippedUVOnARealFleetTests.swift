import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet
import PinwheelEngine

/// `source: {ship: {…, uv: VERSION}}` on a real fleet whose hosts have only Python: no uv and no index. The controller
/// sends each host uv's wheel for the platform it reported in its observation with the slot's files; the host unpacks
/// the binary (checked by the wheel's hash and its RECORD) and builds every slot with it.
@Suite("Shipped uv on a real fleet", .serialized, .tags(.fleet))
struct ShippedUVOnARealFleetTests {
    static let first = 87

    /// uv's wheel for this machine, which `scripts/fleet-tools` keeps beside the tools.
    static func uvWheel() async throws -> (name: String, path: String, version: String, sha256: String) {
        let tools = try await Shell.script("fleet-tools", []).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let folder = "\(tools)/uv-wheels"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first { $0.hasPrefix("uv-") && $0.hasSuffix(".whl") })
        let version = String(name.dropFirst("uv-".count).prefix { $0 != "-" })
        let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(name)"))
        return (name, "\(folder)/\(name)", version, ContentDigest.hex(of: data))
    }

    static func manifest(_ fleet: TestFleet, _ host: Int, _ slot: String) throws -> String {
        try String(contentsOfFile: "\(fleet.hostFolder(host))/srv/\(fleet.environmentName)/slots/\(slot)/manifest.json", encoding: .utf8)
    }

    @Test func hostsWithOnlyPythonGetUVAndTheFilesFromTheControllerAndServe() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first, uv: false)
        let uv = try await Self.uvWheel()
        // The controller's wheel folder: the service's wheels and uv's; the hosts reach no index at all.
        let folder = "\(fleet.directory)/controller-wheels"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for version in ["1.0.0", "1.1.0"] {
            let wheel = try ShippingOnARealFleetTests.wheel(fleet, version)
            try FileManager.default.copyItem(atPath: wheel.path, toPath: "\(folder)/\(wheel.name)")
        }
        try FileManager.default.copyItem(atPath: uv.path, toPath: "\(folder)/\(uv.name)")
        try await Shell.script("package-index", ["down", "--dir", fleet.directory])
        let cache = ArtifactCache(folder: "\(fleet.directory)/controller-artifacts")
        try ShippingOnARealFleetTests.ship(fleet, from: "{wheels: \(folder), uv: '\(uv.version)'}")
        try fleet.setPins(.a, try ShippingOnARealFleetTests.pin(fleet, "1.0.0"))
        try fleet.setPins(.b, try ShippingOnARealFleetTests.pin(fleet, "1.0.0"))

        // Each host says what it is in its observation: this machine, glibc, no uv.
        let environment = try fleet.environment()
        #expect(environment.source == .ship(.folder(folder), uv: uv.version))
        let agents = HostAgent.agents(for: environment, transports: fleet.transports(for: environment), commit: nil, artifactCache: cache)
        let observed = try await agents[0].observe()
        #expect(observed.platform?.uv == false && observed.platform?.libc == "glibc", "\(String(describing: observed.platform))")
        #expect(await agents[0].shipper?.platform(of: fleet.name(0)) == observed.platform)
        #expect(try await agents[0].shipper?.uvWheel(for: observed.platform)?.sha256 == uv.sha256)

        let first = try await ShippingOnARealFleetTests.apply(fleet, cache: cache)
        #expect(first.allSatisfy { $0.error == nil }, "\(first.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.contains("hello-service 1.0.0") })
        let output = ShippingOnARealFleetTests.output(first)
        // Each host got two files (the service's wheel and uv's), uv once for both slots.
        #expect(output.filter { $0.hasPrefix("shipped 2 file(s), ") }.count == 3, "\(output)")
        #expect(output.filter { $0.contains("with uv (shipped \(uv.name))") }.count == 6, "\(output)")
        for host in 0..<3 {
            let binary = "\(ShippingOnARealFleetTests.store(fleet, host))/\(uv.sha256).uv"
            let mode = try #require(FileManager.default.attributesOfItem(atPath: binary)[.posixPermissions] as? Int)
            #expect(mode == 0o700)
            #expect(try Self.manifest(fleet, host, "A").contains("uv (shipped \(uv.name))"))
        }

        // A release: only the service's new wheel travels; the unpacked uv builds it.
        try fleet.setPins(.b, try ShippingOnARealFleetTests.pin(fleet, "1.1.0"))
        try fleet.setActive(.b)
        let release = try await ShippingOnARealFleetTests.apply(fleet, cache: cache)
        #expect(release.allSatisfy { $0.error == nil }, "\(release.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.contains("hello-service 1.1.0") })
        let released = ShippingOnARealFleetTests.output(release)
        #expect(released.filter { $0.hasPrefix("shipped 1 file(s), ") }.count == 3, "\(released)")
        #expect(try Self.manifest(fleet, 0, "B").contains("uv (shipped \(uv.name))"))

        // A damaged unpacked binary is not the user's problem to find: a group-writable one is replaced, not run.
        let binary = "\(ShippingOnARealFleetTests.store(fleet, 1))/\(uv.sha256).uv"
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: binary)
        try fleet.setPins(.a, try ShippingOnARealFleetTests.pin(fleet, "1.1.0"))
        let idle = try await ShippingOnARealFleetTests.apply(fleet, cache: cache)
        #expect(idle.allSatisfy { $0.error == nil }, "\(idle.map { $0.error?.description ?? "" })")
        #expect(try FileManager.default.attributesOfItem(atPath: binary)[.posixPermissions] as? Int == 0o700)
    }

    @Test func aHostWithItsOwnUVOrAnUnknownPlatformIsSentNone() async throws {
        let shipper = ArtifactShipper(cache: ArtifactCache(folder: "/nonexistent/cache"), origin: .folder("/nonexistent/wheels"),
                                      pins: PerSlot(a: [], b: []), uv: "0.13.9")
        // Neither needs the origin: nothing is looked up.
        #expect(try await shipper.uvWheel(for: HostPlatform(machine: "x86_64", libc: "glibc", libcVersion: "2.36", uv: true)) == nil)
        #expect(try await shipper.uvWheel(for: nil) == nil)
        // Without `uv:` in the config, no host is sent uv.
        let plain = ArtifactShipper(cache: ArtifactCache(folder: "/nonexistent/cache"), origin: .folder("/nonexistent/wheels"),
                                    pins: PerSlot(a: [], b: []))
        #expect(try await plain.uvWheel(for: HostPlatform(machine: "x86_64")) == nil)
        // A host that needs uv when the origin has none for it: an error naming the platform and what to do.
        await #expect(throws: ShipError.self) { _ = try await shipper.uvWheel(for: HostPlatform(machine: "x86_64")) }
    }
}
