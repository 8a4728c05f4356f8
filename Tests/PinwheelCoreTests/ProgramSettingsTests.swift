import Testing
@testable import PinwheelCore

@Suite("Program settings")
struct ProgramSettingsTests {
    static let settings = """
            environment:
              DJANGO_SETTINGS_MODULE: hello.settings
              BIND: "127.0.0.1:{port}"
              WORKERS: 4
              EMPTY: ""
            envFile: /etc/hello/secrets.env
            user: www-data
            directory: /srv/hello
            stopSignal: QUIT
            stopTimeout: 30s
            startSeconds: 2
        """

    static func environment(web settings: String = ProgramSettingsTests.settings) throws -> Environment {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(
            of: "    health: {path: /healthz, status: 200, timeout: 2s}",
            with: "    health: {path: /healthz, status: 200, timeout: 2s}\n" + settings)
        return try ConfigLoader(source: InMemorySource(files)).environment("prod")
    }

    @Test func everySettingIsRead() throws {
        let web = try #require(try Self.environment().program(named: "web"))
        #expect(web.settings == ProgramSettings(
            environment: ["DJANGO_SETTINGS_MODULE": "hello.settings", "BIND": "127.0.0.1:{port}", "WORKERS": "4", "EMPTY": ""],
            envFile: "/etc/hello/secrets.env", user: "www-data", directory: "/srv/hello",
            stopSignal: .quit, stopTimeout: .seconds(30), startSeconds: 2))
        let worker = try #require(try Self.environment().program(named: "worker"))
        #expect(worker.settings.isDefault)
    }

    @Test func aProgramWithoutSettingsKeepsItsFingerprint() throws {
        let plain = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let spec = plain.slotSpec(.a, on: plain.hosts[0])
        let encoding = SlotFingerprint.canonicalEncoding(of: spec)
        for key in ProgramSettings.keys {
            #expect(!encoding.contains("program.\(key)"), "\(key)")
        }
    }

    @Test func eachSettingChangesTheFingerprintButNotTheBuild() throws {
        let plain = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let base = plain.slotSpec(.a, on: plain.hosts[0])
        let changes: [(inout ProgramSettings) -> Void] = [
            { $0.environment = ["A": "1"] }, { $0.environment = ["A": "2"] }, { $0.environment = ["B": "1"] },
            { $0.envFile = "/etc/x.env" }, { $0.user = "www-data" }, { $0.directory = "/srv/x" },
            { $0.stopSignal = .term }, { $0.stopTimeout = .seconds(10) }, { $0.startSeconds = 1 },
        ]
        var fingerprints: Set<String> = [SlotFingerprint.of(base)]
        for change in changes {
            var spec = base
            change(&spec.programs[0].settings)
            fingerprints.insert(SlotFingerprint.of(spec))
            #expect(SlotFingerprint.build(of: spec) == SlotFingerprint.build(of: base))
        }
        #expect(fingerprints.count == changes.count + 1)
        var repinned = base
        repinned.requirements = "hello-service==9.0.0\n"
        #expect(SlotFingerprint.build(of: repinned) != SlotFingerprint.build(of: base))
        #expect(SlotFingerprint.build(of: base) == ResolvedSlot(base).build)
    }

    @Test func variableValuesRules() {
        #expect(ValueRules.variableValueProblem("postgres://db/hello?opt=a;b") == nil)
        #expect(ValueRules.variableValueProblem("say \"hi\" 100%") == nil)
        #expect(ValueRules.variableValueProblem("it's") == nil)
        #expect(ValueRules.variableValueProblem("it's \"x\"") != nil)
        #expect(ValueRules.variableValueProblem("a #b") != nil)
        #expect(ValueRules.variableValueProblem("a\tb") != nil)
        #expect(ValueRules.variableValueProblem(String(repeating: "x", count: 4097)) != nil)
        #expect(ValueRules.unknownPlaceholder(in: "{\"json\": 1} {port}", known: ["port"]) == nil)
        #expect(ValueRules.unknownPlaceholder(in: "{slot}-{prot}", known: ["port", "slot"]) == "prot")
        #expect(ValueRules.isVariableName("_X1") && !ValueRules.isVariableName("1X") && !ValueRules.isVariableName("A-B"))
    }
}
