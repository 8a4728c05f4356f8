import Foundation
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// The controller's side of shipping, on files only: the content-addressed cache and a shipper reading a wheel folder.
@Suite("Artifact cache")
struct ArtifactCacheTests {
    static let wheel = Data("a wheel's bytes".utf8)
    static var sha256: String { ContentDigest.hex(of: wheel) }

    @Test func aFileIsKeptOnlyUnderItsOwnHashAndADamagedOneIsRemoved() throws {
        let folder = try TemporaryFolder("pinwheel-artifacts")
        let cache = ArtifactCache(folder: folder.path("cache"))
        #expect(throws: ShipError.self) { try cache.store(Data("other".utf8), sha256: Self.sha256, name: "x-1.0-py3-none-any.whl") }
        guard case .missing = cache.read(Self.sha256) else { Issue.record("a refused file was kept"); return }
        try cache.store(Self.wheel, sha256: Self.sha256, name: "x-1.0-py3-none-any.whl")
        guard case let .present(data) = cache.read(Self.sha256) else { Issue.record("the stored file is not there"); return }
        #expect(data == Self.wheel)
        let attributes = try FileManager.default.attributesOfItem(atPath: cache.path(of: Self.sha256))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: cache.path(of: Self.sha256)))
        guard case let .corrupt(actual) = cache.read(Self.sha256) else { Issue.record("a damaged file was read as good"); return }
        #expect(actual == ContentDigest.hex(of: Data("damaged".utf8)))
        #expect(!FileManager.default.fileExists(atPath: cache.path(of: Self.sha256)))
        // Names that are not a SHA-256 never reach the file system.
        guard case .missing = cache.read("../../etc/passwd") else { Issue.record("a path was read"); return }
    }

    @Test func aShipperTakesOnlyTheLockedFileFromAFolderAndRefetchesADamagedCopy() async throws {
        let folder = try TemporaryFolder("pinwheel-artifacts")
        let wheels = folder.path("wheels")
        try FileManager.default.createDirectory(atPath: wheels, withIntermediateDirectories: true)
        try Self.wheel.write(to: URL(fileURLWithPath: "\(wheels)/mini-1.0-py3-none-any.whl"))
        try Data("another build".utf8).write(to: URL(fileURLWithPath: "\(wheels)/mini-1.0-py2-none-any.whl"))
        try Data("not mini".utf8).write(to: URL(fileURLWithPath: "\(wheels)/other-1.0-py3-none-any.whl"))
        let cache = ArtifactCache(folder: folder.path("cache"))
        let pin = Pin(name: "Mini", version: "1.0", hashes: ["sha256:\(Self.sha256)"])
        let shipper = ArtifactShipper(cache: cache, origin: .folder(wheels), pins: PerSlot(a: [pin], b: []))
        let artifacts = try await shipper.artifacts(for: .a)
        #expect(artifacts == [ShippedArtifact(name: "mini-1.0-py3-none-any.whl", sha256: Self.sha256, size: Self.wheel.count)])
        // A damaged cached copy is noticed and taken again from the folder.
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: cache.path(of: Self.sha256)))
        let again = ArtifactShipper(cache: cache, origin: .folder(wheels), pins: PerSlot(a: [pin], b: []))
        #expect(try await again.artifacts(for: .a) == artifacts)
        #expect(try await again.data(of: artifacts[0]) == Self.wheel)
        // A pin whose hash no file has says so, naming the pin and the folder.
        let missing = Pin(name: "mini", version: "2.0", hashes: ["sha256:\(String(repeating: "0", count: 64))"])
        let lacking = ArtifactShipper(cache: cache, origin: .folder(wheels), pins: PerSlot(a: [missing], b: []))
        await #expect(throws: ShipError.notFound(pin: "mini==2.0", origin: "folder \(wheels)")) { try await lacking.artifacts(for: .a) }
    }
}
