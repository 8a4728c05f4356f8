import Testing
@testable import PinwheelCore

/// The slot fingerprint names every build on every host: a change to it rebuilds every slot of every fleet, so its
/// value is pinned here and changes only with an explicit version bump.
@Suite("Slot fingerprint")
struct SlotFingerprintTests {
    static let spec = SlotSpec(
        environment: "production", app: "hello", slot: .b, python: "/usr/bin/python3",
        source: .index("http://pypi.internal:8080/simple/"),
        requirements: "hello-service==1.1.0\n", hashed: false,
        programs: [
            .init(name: "web", supervisorName: "hello-web-B", command: "hello-service --port {port}", processes: 2,
                  ports: [8200, 8201], health: HealthCheck(path: "/healthz", status: 200, timeout: .seconds(2))),
            .init(name: "worker", supervisorName: "hello-worker-B", command: "hello-worker", processes: 1, ports: [], health: nil),
        ])

    @Test func theEncodingIsCanonicalAndVersioned() {
        #expect(SlotFingerprint.canonicalEncoding(of: Self.spec) == """
            pinwheel-slot-fingerprint v1
            environment 10:production
            app 5:hello
            slot B
            python 16:/usr/bin/python3
            source.index 33:http://pypi.internal:8080/simple/
            requirements 21:hello-service==1.1.0

            hashed false
            programs 2
            program.name 3:web
            program.supervisorName 11:hello-web-B
            program.command 27:hello-service --port {port}
            program.processes 2
            program.ports 8200,8201
            program.health.path 8:/healthz
            program.health.status 200
            program.health.timeoutMilliseconds 2000
            program.name 6:worker
            program.supervisorName 14:hello-worker-B
            program.command 12:hello-worker
            program.processes 1
            program.ports 
            program.health none

            """)
    }

    @Test func theGoldenValue() {
        // Changing this value rebuilds every slot on every host: bump SlotFingerprint.version and say so. The value was
        // computed independently (Python's hashlib over the encoding above).
        #expect(SlotFingerprint.of(Self.spec) == "99b0ac3ba728b874e075ba1096703b6008b8440652b30f70c30eb321dd899ae3")
        #expect(SlotFingerprint.version == 1)
    }

    @Test func lengthPrefixesKeepFieldsApart() {
        var one = Self.spec
        one.requirements = "a==1\nprogram.name 3:web\n"
        var other = Self.spec
        other.requirements = "a==1\n"
        #expect(SlotFingerprint.of(one) != SlotFingerprint.of(other))
        #expect(SlotFingerprint.of(Self.spec).count == 64)
        #expect(SlotFingerprint.of(Self.spec).allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test func resolvingAHostComputesEachFingerprintOnce() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let target = environment.target(for: environment.hosts[0])
        #expect(target.slots.a.fingerprint == SlotFingerprint.of(target.slots.a.spec))
        #expect(target.slots.b.fingerprint != target.slots.a.fingerprint)
    }
}
