import Foundation
import Testing
@testable import PinwheelCore

/// `source: {ship: …}`: its config, which files of a pin are shipped, and the index pages the controller reads.
@Suite("Shipping")
struct ShippingTests {
    static let hash1 = String(repeating: "a", count: 64)
    static let hash2 = String(repeating: "b", count: 64)
    static let hash3 = String(repeating: "c", count: 64)

    static func files(source: String, a: String = "mini==1.0 --hash=sha256:\(hash1)\n") -> [String: String] {
        [
            "Environments/mini/environment.yaml": """
                app: mini
                python: /usr/bin/python3
                source: \(source)
                active: A
                slots: {A: a.txt, B: b.txt}
                programs:
                  worker: {command: mini-worker}
                policy: default
                hosts:
                  - {name: here, address: local}
                """,
            "Environments/mini/a.txt": a,
            "Environments/mini/b.txt": "mini==2.0 --hash=sha256:\(hash2)\n",
            "Policies/default.yaml": "{}\n",
        ]
    }

    static func diagnostics(_ files: [String: String]) throws -> [String] {
        // Errors only: the fixture's `address: local` host is a warning of its own.
        try ConfigLoader(source: InMemorySource(files)).load(["mini"]).diagnostics.filter { $0.severity == .error }.map(\.description)
    }

    @Test func shipFromAnIndexOrAFolderOnTheController() throws {
        let index = try ConfigLoader(source: InMemorySource(Self.files(source: "{ship: {index: 'https://pypi.example.com/simple/'}}")))
            .environment("mini")
        #expect(index.source == .ship(.index("https://pypi.example.com/simple/")))
        let folder = try ConfigLoader(source: InMemorySource(Self.files(source: "{ship: {wheels: /srv/wheels}}"))).environment("mini")
        #expect(folder.source == .ship(.folder("/srv/wheels")))
        // It travels to the agent as JSON and back.
        let encoded = try JSONEncoder().encode(folder.source)
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"ship":{"wheels":"\/srv\/wheels"}}"#)
        #expect(try JSONDecoder().decode(PackageSource.self, from: encoded) == folder.source)
    }

    @Test func aShippedSlotChangesItsFingerprintButNotByWhereTheControllerGetsTheFiles() throws {
        let index = try ConfigLoader(source: InMemorySource(Self.files(source: "{ship: {index: 'https://pypi.example.com/simple/'}}")))
            .environment("mini")
        let folder = try ConfigLoader(source: InMemorySource(Self.files(source: "{ship: {wheels: /srv/wheels}}"))).environment("mini")
        let host = try #require(index.hosts.first)
        #expect(SlotFingerprint.of(index.slotSpec(.a, on: host)) == SlotFingerprint.of(folder.slotSpec(.a, on: host)))
        let direct = try ConfigLoader(source: InMemorySource(Self.files(source: "{index: 'https://pypi.example.com/simple/'}")))
            .environment("mini")
        #expect(SlotFingerprint.of(index.slotSpec(.a, on: host)) != SlotFingerprint.of(direct.slotSpec(.a, on: host)))
    }

    @Test func badShipSettingsSayWhereAndWhat() throws {
        let path = "Environments/mini/environment.yaml"
        #expect(try Self.diagnostics(Self.files(source: "{ship: {}}")).contains {
            $0.hasPrefix("\(path):3:16: error: `source.ship` must set `index`")
        })
        #expect(try Self.diagnostics(Self.files(source: "{ship: {index: 'https://a/simple/', wheels: /w}}")).contains {
            $0.hasPrefix("\(path):3:16: error: `source.ship` sets both `index` and `wheels`")
        })
        #expect(try Self.diagnostics(Self.files(source: "{ship: {wheels: wheels}}")).contains {
            $0.hasPrefix("\(path):3:25: error: `source.ship.wheels` must be an absolute path on the controller's machine")
        })
        #expect(try Self.diagnostics(Self.files(source: "{ship: {index: 'ftp://a/'}}")).contains {
            $0.hasPrefix("\(path):3:24: error: `source.ship.index`")
        })
        #expect(try Self.diagnostics(Self.files(source: "{ship: {index: 'https://a/simple/'}, wheelhouse: /w}")).contains {
            $0.hasPrefix("\(path):3:9: error: `source` sets both `wheelhouse` and `ship`; choose one")
        })
        #expect(try Self.diagnostics(Self.files(source: "{ship: {mirror: x}}")).contains { $0.contains("mirror") })
    }

    @Test func aShippedSlotNeedsAHashOnEveryPin() throws {
        let found = try Self.diagnostics(Self.files(source: "{ship: {wheels: /srv/wheels}}", a: "mini==1.0\nother==2.0\n"))
        #expect(found.count == 2)
        #expect(found.first?.hasPrefix("Environments/mini/a.txt:1:1: error: `mini` has no `--hash`, and `source: {ship: …}` ships only files named by their hash") == true)
        #expect(found.first?.contains("uv pip compile --generate-hashes") == true)
        // The same file is fine for an index.
        #expect(try Self.diagnostics(Self.files(source: "{index: 'https://a/simple/'}", a: "mini==1.0\nother==2.0\n")).isEmpty)
    }

    // MARK: Which files

    static func candidate(_ name: String, _ hash: String) -> ArtifactChoice.Candidate {
        .init(name: name, sha256: hash, location: "https://files/\(name)")
    }

    @Test func aPureWheelIsShippedAlone() {
        let pin = Pin(name: "Mini", version: "1.0", hashes: ["sha256:\(Self.hash1)", "sha256:\(Self.hash2)", "sha256:\(Self.hash3)"])
        let chosen = ArtifactChoice.choose(for: pin, from: [
            Self.candidate("mini-1.0.tar.gz", Self.hash1),
            Self.candidate("mini-1.0-py3-none-any.whl", Self.hash2),
            Self.candidate("mini-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", Self.hash3),
        ])
        #expect(chosen.map(\.name) == ["mini-1.0-py3-none-any.whl"])
    }

    @Test func platformWheelsAndTheSdistAreFetchedWithoutAPureWheel() {
        let pin = Pin(name: "mini", version: "1.0", hashes: ["sha256:\(Self.hash1)", "sha256:\(Self.hash2)", "sha256:\(Self.hash3.uppercased())"])
        let wheels = ArtifactChoice.choose(for: pin, from: [
            Self.candidate("mini-1.0.tar.gz", Self.hash1),
            Self.candidate("mini-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", Self.hash2),
            Self.candidate("mini-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", Self.hash3),
        ])
        // Every wheel and the sdist reach the controller's cache; each host is sent its own (HostPlatformTests).
        #expect(wheels.map(\.sha256) == [Self.hash2, Self.hash3, Self.hash1])
        let sdist = ArtifactChoice.choose(for: pin, from: [Self.candidate("mini-1.0.tar.gz", Self.hash1)])
        #expect(sdist.map(\.name) == ["mini-1.0.tar.gz"])
    }

    @Test func onlyFilesWithALockedHashAreEverChosen() {
        let pin = Pin(name: "mini", version: "1.0", hashes: ["sha256:\(Self.hash1)", "md5:abc"])
        #expect(ArtifactChoice.choose(for: pin, from: [Self.candidate("mini-1.0-py3-none-any.whl", Self.hash2)]).isEmpty)
        #expect(ArtifactChoice.sha256s(of: pin) == [Self.hash1])
        // A file that is not a wheel or an sdist is never shipped, whatever its hash.
        #expect(ArtifactChoice.choose(for: pin, from: [Self.candidate("mini-1.0.exe", Self.hash1)]).isEmpty)
    }

    @Test func fileNamesThatCouldBeAPathOrAnOptionAreRefused() {
        #expect(ShippedArtifact.isSafeName("hello_service-1.0.0-py3-none-any.whl"))
        #expect(ShippedArtifact.isSafeName("mini-1.0.tar.gz"))
        for name in ["../x-1.0-py3-none-any.whl", "a/b-1.0.tar.gz", ".hidden-1.0.tar.gz", "--index-url=x.whl", "mini-1.0.txt",
                     "mini 1.0.tar.gz", "", String(repeating: "a", count: 300) + ".whl"] {
            #expect(!ShippedArtifact.isSafeName(name), "\(name)")
        }
    }

    // MARK: Index pages

    @Test func aSimplePageGivesEachFileWithItsHash() {
        let html = """
            <!DOCTYPE html><html><body>
            <a href="../../packages/hello_service-1.0.0-py3-none-any.whl#sha256=\(Self.hash1)">hello_service-1.0.0-py3-none-any.whl</a><br>
            <a data-requires-python="&gt;=3.8" href='/files/hello-service-1.0.0.tar.gz#sha256=\(Self.hash2.uppercased())'>x</a>
            <A HREF="https://cdn.example.com/p/hello_service-1.1.0-py3-none-any.whl?x=1&amp;y=2#sha256=\(Self.hash3)">y</A>
            <a href="hello_service-0.9-py3-none-any.whl#md5=abc">no sha256</a>
            <a href="../../packages/..%2F..%2Fetc-1.0.tar.gz#sha256=\(Self.hash1)">encoded path</a>
            </body></html>
            """
        let found = SimpleIndexPage.candidates(html: html, pageURL: "http://127.0.0.1:9141/simple/hello-service/")
        #expect(found.map(\.name) == ["hello_service-1.0.0-py3-none-any.whl", "hello-service-1.0.0.tar.gz",
                                      "hello_service-1.1.0-py3-none-any.whl"])
        #expect(found.map(\.location) == [
            "http://127.0.0.1:9141/packages/hello_service-1.0.0-py3-none-any.whl",
            "http://127.0.0.1:9141/files/hello-service-1.0.0.tar.gz",
            "https://cdn.example.com/p/hello_service-1.1.0-py3-none-any.whl?x=1&y=2",
        ])
        #expect(found.map(\.sha256) == [Self.hash1, Self.hash2, Self.hash3])
        #expect(SimpleIndexPage.pageURL(index: "http://i/simple", project: "Hello_Service") == "http://i/simple/hello-service/")
    }

    @Test func aHostilePageIsBoundedAndNeverCrashes() {
        let link = "<a href=\"x-1.0-py3-none-any.whl#sha256=\(Self.hash1)\">x</a>"
        #expect(SimpleIndexPage.candidates(html: String(repeating: link, count: 50), pageURL: "http://i/simple/x/", limit: 10).count == 10)
        for html in ["<a ", "<a href=", "<a href=\"", "<a href=>", "<a href='#sha256=\(Self.hash1)'>", "<<<a>>>", ""] {
            #expect(SimpleIndexPage.candidates(html: html, pageURL: "http://i/").isEmpty)
        }
    }

    // MARK: What each host installed

    @Test func theStatusRecordsEachSlotsShippedFilesAndReadsOlderStatuses() throws {
        let hostile = String(repeating: "x", count: 64)
        let manifest = SlotManifest(fingerprint: "f", pins: ["mini==1.0"], artifacts: [Self.hash1, hostile, Self.hash2])
        let empty = SlotObservation(manifest: nil, processes: [:], healthy: false, problems: [])
        let observation = HostObservation(slots: PerSlot(a: SlotObservation(manifest: manifest, processes: [:], healthy: true, problems: []),
                                                         b: empty), routed: .a)
        let host = EnvironmentStatus.HostStatus(observation: observation, failure: nil)
        #expect(host.artifacts == ["A": [Self.hash1, Self.hash2]])
        // Encoded only when there are some: a host without shipped slots reads and writes as before.
        let plain = EnvironmentStatus.HostStatus(serving: .a, slots: ["A": ["mini==1.0"]], healthy: true)
        let encoded = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!encoded.contains("artifacts"))
        let older = #"{"serving":"A","slots":{"A":["mini==1.0"]},"healthy":true}"#
        #expect(try JSONDecoder().decode(EnvironmentStatus.HostStatus.self, from: Data(older.utf8)).artifacts == nil)
        let round = try JSONDecoder().decode(EnvironmentStatus.HostStatus.self, from: try JSONEncoder().encode(host))
        #expect(round == host)
    }
}
