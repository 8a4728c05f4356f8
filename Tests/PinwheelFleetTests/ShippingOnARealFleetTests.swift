import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet
import PinwheelEngine

/// `source: {ship: …}` on a real fleet: the controller gets each file once (from the index it reaches, or a wheel
/// folder on its machine), keeps it in its cache by hash and sends each host what it lacks over SSH; the hosts install
/// with no index at all.
@Suite("Shipping on a real fleet", .serialized, .tags(.fleet))
struct ShippingOnARealFleetTests {
    static let first = 85

    /// The sample wheel of `version` and its SHA-256.
    static func wheel(_ fleet: TestFleet, _ version: String) throws -> (name: String, path: String, sha256: String) {
        let name = "hello_service-\(version)-py3-none-any.whl"
        let path = "\(fleet.directory)/wheels/\(name)"
        let data = try #require(FileManager.default.contents(atPath: path))
        return (name, path, ContentDigest.hex(of: data))
    }

    static func pin(_ fleet: TestFleet, _ version: String) throws -> String {
        "hello-service==\(version) --hash=sha256:\(try wheel(fleet, version).sha256)"
    }

    /// The fleet's environment installing from `origin`, shipped.
    static func ship(_ fleet: TestFleet, from origin: String) throws {
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "  index: http://127.0.0.1:\(fleet.indexPort)/simple/\n", with: "  ship: \(origin)\n")
        }
    }

    /// One reconcile, as `pinwheel apply` runs it, with the controller's artifact cache in `cache`.
    static func apply(_ fleet: TestFleet, cache: ArtifactCache) async throws -> [HostReport] {
        let environment = try fleet.environment()
        let agents = HostAgent.agents(for: environment, transports: fleet.transports(for: environment), commit: nil,
                                      artifactCache: cache)
        return await EnvironmentReconciler(environment: environment, agents: agents).reconcile().hosts
    }

    static func output(_ reports: [HostReport]) -> [String] {
        reports.flatMap { $0.phases.flatMap { $0.outcomes.flatMap(\.output) } }
    }

    static func store(_ fleet: TestFleet, _ host: Int) -> String {
        "\(fleet.hostFolder(host))/srv/.pinwheel/artifacts"
    }

    @Test func anOfflineFleetIsServedEntirelyFromTheControllersWheelFolder() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        // No index anywhere: the hosts' address for it is dead, and the controller has only its wheel folder.
        try await Shell.script("package-index", ["down", "--dir", fleet.directory])
        let cache = ArtifactCache(folder: "\(fleet.directory)/controller-artifacts")
        try Self.ship(fleet, from: "{wheels: \(fleet.directory)/wheels}")
        try fleet.setPins(.a, try Self.pin(fleet, "1.0.0"))
        try fleet.setPins(.b, try Self.pin(fleet, "1.0.0"))
        let first = try await Self.apply(fleet, cache: cache)
        #expect(first.allSatisfy { $0.error == nil }, "\(first.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.contains("hello-service 1.0.0") })
        // Each host got the file once (slots A and B share it), checked by hash, and installed without an index.
        let old = try Self.wheel(fleet, "1.0.0")
        #expect(Self.output(first).filter { $0.hasPrefix("shipped 1 file(s), ") }.count == 2, "\(Self.output(first))")
        for host in 0..<2 {
            #expect(FileManager.default.contentsEqual(atPath: "\(Self.store(fleet, host))/\(old.sha256)", andPath: old.path))
        }
        #expect(FileManager.default.contentsEqual(atPath: "\(cache.folder)/files/\(old.sha256)", andPath: old.path))

        // A release into slot B: only the new file travels.
        let new = try Self.wheel(fleet, "1.1.0")
        try fleet.setPins(.b, try Self.pin(fleet, "1.1.0"))
        try fleet.setActive(.b)
        let release = try await Self.apply(fleet, cache: cache)
        #expect(release.allSatisfy { $0.error == nil }, "\(release.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.contains("hello-service 1.1.0") })
        let size = try #require(FileManager.default.attributesOfItem(atPath: new.path)[.size] as? Int)
        #expect(Self.output(release).filter { $0 == "shipped 1 file(s), \(size) bytes" }.count == 2, "\(Self.output(release))")
        // The build records the files it installed from.
        let manifest = try String(contentsOfFile: "\(fleet.hostFolder(0))/srv/\(fleet.environmentName)/slots/B/manifest.json", encoding: .utf8)
        #expect(manifest.contains(new.sha256))
        // Nothing to do, nothing shipped.
        let again = try await Self.apply(fleet, cache: cache)
        #expect(again.allSatisfy { $0.error == nil && $0.phases.isEmpty })
    }

    @Test func aCorruptCachedFileIsCaughtByItsHashAndTheHostsKeepServing() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let index = "http://127.0.0.1:\(fleet.indexPort)/simple/"
        let cache = ArtifactCache(folder: "\(fleet.directory)/controller-artifacts")
        try Self.ship(fleet, from: "{index: '\(index)'}")
        try fleet.setPins(.a, try Self.pin(fleet, "1.0.0"))
        try fleet.setPins(.b, try Self.pin(fleet, "1.0.0"))
        let first = try await Self.apply(fleet, cache: cache)
        #expect(first.allSatisfy { $0.error == nil }, "\(first.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.contains("hello-service 1.0.0") })

        // 1.1.0 reaches the controller's cache, then its copy there is damaged and the index goes away.
        let new = try Self.wheel(fleet, "1.1.0")
        let shipper = ArtifactShipper(cache: cache, origin: .index(index),
                                      pins: PerSlot(a: [], b: [Pin(name: "hello-service", version: "1.1.0", hashes: ["sha256:\(new.sha256)"])]))
        let fetched = try await shipper.artifacts(for: .b)
        #expect(fetched.map(\.name) == [new.name])
        var bytes = try #require(FileManager.default.contents(atPath: "\(cache.folder)/files/\(new.sha256)"))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: "\(cache.folder)/files/\(new.sha256)"))
        try await Shell.script("package-index", ["down", "--dir", fleet.directory])

        try fleet.setPins(.b, try Self.pin(fleet, "1.1.0"))
        try fleet.setActive(.b)
        let failed = try await Self.apply(fleet, cache: cache)
        #expect(failed.allSatisfy { $0.error?.code == .install && $0.error?.message.contains(new.name) == true
                    && $0.error?.message.contains("cached copy") == true },
                "\(failed.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0").allSatisfy { $0.contains("hello-service 1.0.0") })
        #expect(!FileManager.default.fileExists(atPath: "\(Self.store(fleet, 0))/\(new.sha256)"))

        // With the index back, the file is fetched again, whole, and the release goes out.
        try await Shell.script("package-index", ["up", "--dir", fleet.directory, "--port", String(fleet.indexPort)])
        let retried = try await Self.apply(fleet, cache: cache)
        #expect(retried.allSatisfy { $0.error == nil }, "\(retried.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.contains("hello-service 1.1.0") })
        #expect(FileManager.default.contentsEqual(atPath: "\(cache.folder)/files/\(new.sha256)", andPath: new.path))
    }

    @Test func anInterruptedTransferContinuesAndABadPartialFileIsNeverUsed() async throws {
        let fleet = try await TestFleet.start(hosts: 2, first: Self.first)
        let cache = ArtifactCache(folder: "\(fleet.directory)/controller-artifacts")
        try Self.ship(fleet, from: "{wheels: \(fleet.directory)/wheels}")
        try fleet.setPins(.a, try Self.pin(fleet, "1.0.0"))
        try fleet.setPins(.b, try Self.pin(fleet, "1.0.0"))
        let first = try await Self.apply(fleet, cache: cache)
        #expect(first.allSatisfy { $0.error == nil }, "\(first.map { $0.error?.description ?? "" })")

        // A transfer of 1.1.0 that stopped halfway: host 0 holds the first half of the right file, host 1 half of
        // something else.
        let new = try Self.wheel(fleet, "1.1.0")
        let data = try #require(FileManager.default.contents(atPath: new.path))
        let half = data.count / 2
        try data.prefix(half).write(to: URL(fileURLWithPath: "\(Self.store(fleet, 0))/\(new.sha256).partial"))
        try Data(repeating: 0x42, count: half).write(to: URL(fileURLWithPath: "\(Self.store(fleet, 1))/\(new.sha256).partial"))

        try fleet.setPins(.b, try Self.pin(fleet, "1.1.0"))
        try fleet.setActive(.b)
        let reports = try await Self.apply(fleet, cache: cache)
        let byHost = Dictionary(uniqueKeysWithValues: reports.map { ($0.host, $0) })
        let resumed = try #require(byHost[fleet.name(0)])
        #expect(resumed.error == nil, "\(resumed.error?.description ?? "")")
        #expect(Self.output([resumed]).contains("shipped 1 file(s), \(data.count - half) bytes, 1 continued from a partial file"),
                "\(Self.output([resumed]))")
        // Its slot B is built from the completed file (the rollout itself halts: host 1 failed, below).
        let manifest = try String(contentsOfFile: "\(fleet.hostFolder(0))/srv/\(fleet.environmentName)/slots/B/manifest.json", encoding: .utf8)
        #expect(manifest.contains(new.sha256) && manifest.contains("hello-service==1.1.0"), "\(manifest)")
        // Host 1's file did not hash to the lock's: refused, removed, and slot A still serves.
        let refused = try #require(byHost[fleet.name(1)])
        #expect(refused.error?.message.contains(new.name) == true && refused.error?.message.contains("not the lock's") == true,
                "\(refused.error?.description ?? "")")
        #expect(try await fleet.waitUntilServing("hello-service 1.0.0", hosts: [1]).allSatisfy { $0.contains("hello-service 1.0.0") })
        #expect(!FileManager.default.fileExists(atPath: "\(Self.store(fleet, 1))/\(new.sha256).partial"))
        // The next apply sends it whole.
        let retried = try await Self.apply(fleet, cache: cache)
        #expect(retried.allSatisfy { $0.error == nil }, "\(retried.map { $0.error?.description ?? "" })")
        #expect(try await fleet.waitUntilServing("hello-service 1.1.0").allSatisfy { $0.contains("hello-service 1.1.0") })
    }
}
