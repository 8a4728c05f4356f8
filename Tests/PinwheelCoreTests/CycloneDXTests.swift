import Foundation
import Testing
@testable import PinwheelCore

/// `show --sbom`'s document: CycloneDX 1.5 JSON with a package URL and the pinned hashes of every package a slot's
/// hosts install, and the same bytes for the same config.
@Suite("CycloneDX bill of materials")
struct CycloneDXTests {
    static func environment(slotA: String = Fixture.slotA) throws -> Environment {
        var files = Fixture.files
        files[Fixture.slotAPath] = slotA
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    static func parsed(_ document: CycloneDXDocument) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(try document.json().utf8)) as? [String: Any])
    }

    @Test func aSlotsPackagesAreItsComponents() throws {
        let document = CycloneDXDocument(environment: try Self.environment(), slot: .a, commit: String(repeating: "c", count: 40),
                                         toolVersion: "1.2.3")
        let json = try Self.parsed(document)
        #expect(json["bomFormat"] as? String == "CycloneDX" && json["specVersion"] as? String == "1.5" && json["version"] as? Int == 1)
        let components = try #require(json["components"] as? [[String: Any]])
        #expect(Set(components.compactMap { $0["purl"] as? String }) == ["pkg:pypi/hello-service@1.0.0", "pkg:pypi/click@8.1.7"])
        #expect(components.allSatisfy { $0["type"] as? String == "library" && $0["hashes"] == nil })
        let metadata = try #require(json["metadata"] as? [String: Any])
        let application = try #require(metadata["component"] as? [String: Any])
        let properties = try #require(application["properties"] as? [[String: String]])
        #expect(properties.contains(["name": "pinwheel:commit", "value": String(repeating: "c", count: 40)]))
        #expect(properties.contains(["name": "pinwheel:slot", "value": "A"]))
        let dependencies = try #require(json["dependencies"] as? [[String: Any]])
        #expect((dependencies.first?["dependsOn"] as? [String])?.count == 2, "the application depends on every component")
        let serial = try #require(json["serialNumber"] as? String)
        #expect(serial.range(of: "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil)
    }

    @Test func theSameConfigGivesTheSameBytes() throws {
        let environment = try Self.environment()
        let first = try CycloneDXDocument(environment: environment, slot: .a, commit: nil, toolVersion: "1").json()
        #expect(try CycloneDXDocument(environment: environment, slot: .a, commit: nil, toolVersion: "1").json() == first)
        let other = try CycloneDXDocument(environment: environment, slot: .b, commit: nil, toolVersion: "1").json()
        #expect(other != first)
        let serial = { (text: String) in (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["serialNumber"] as? String }
        #expect(serial(other) != serial(first), "another slot, another serial number")
    }

    @Test func aHashedUniversalLockKeepsItsHashesAndMarkers() throws {
        let lock = try UniversalLockTests.fixture("universal-hashed.txt")
        let document = CycloneDXDocument(environment: try Self.environment(slotA: lock), slot: .a, commit: nil, toolVersion: "1")
        let components = try #require(try Self.parsed(document)["components"] as? [[String: Any]])
        #expect(components.count == document.pins.count && !components.isEmpty)
        let asgiref = components.filter { $0["name"] as? String == "asgiref" }
        #expect(asgiref.count == 2, "an interpreter Pinwheel cannot read the version of keeps both alternatives")
        #expect(Set(asgiref.compactMap { $0["bom-ref"] as? String }).count == 2, "each alternative its own reference")
        #expect(asgiref.allSatisfy { (($0["properties"] as? [[String: String]])?.first?["name"]) == "pinwheel:marker" })
        let hashes = try #require(asgiref.first?["hashes"] as? [[String: String]])
        #expect(hashes.count == 2 && hashes.allSatisfy { $0["alg"] == "SHA-256" && $0["content"]?.count == 64 })
    }

    @Test(arguments: [
        (Pin(name: "Foo_Bar", version: "1.0"), "pkg:pypi/foo-bar@1.0"),
        (Pin(name: "zope.interface", version: "6.0"), "pkg:pypi/zope.interface@6.0"),
        (Pin(name: "local", version: "1.0+build.5"), "pkg:pypi/local@1.0%2Bbuild.5"),
    ])
    func packageURLsFollowThePurlSpec(_ pin: Pin, _ purl: String) {
        #expect(CycloneDXDocument.packageURL(pin) == purl)
    }

    @Test func unknownOrMalformedHashesAreLeftOut() {
        #expect(CycloneDXDocument.hash("sha256:ABCDEF") == ["alg": "SHA-256", "content": "abcdef"])
        #expect(CycloneDXDocument.hash("crc32:1234") == nil)
        #expect(CycloneDXDocument.hash("sha256:not-hex") == nil)
        #expect(CycloneDXDocument.hash("sha256") == nil)
    }
}
