import Foundation
import Testing
@testable import PinwheelCore

@Suite("Reading a valid environment")
struct EnvironmentParsingTests {
    @Test func theFixtureIsValid() throws {
        let report = try Fixture.load()
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        #expect(report.environments.keys.sorted() == ["prod"])
        #expect(report.policies.keys.sorted() == ["prod"])
    }

    @Test func desiredStateHoldsWhatTheFileSays() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        #expect(environment.app == "hello")
        #expect(environment.python == "/usr/bin/python3")
        #expect(environment.source == .index("http://127.0.0.1:8300/simple/"))
        #expect(environment.active == .a)
        #expect(environment.idle == .b)
        #expect(environment.slots.a.file == "A.txt")
        #expect(environment.slots.a.pins.map(\.description) == ["click==8.1.7", "hello-service==1.0.0"])
        #expect(environment.slots.b.pin(named: "Hello_Service")?.version == "1.1.0")
        #expect(environment.programs.map(\.name) == ["web", "worker"])
        let web = try #require(environment.program(named: "web"))
        #expect(web.processes == 2)
        #expect(web.ports == PerSlot(a: 8100, b: 8200))
        #expect(web.health == HealthCheck(path: "/healthz", status: 200, timeout: .seconds(2)))
        let worker = try #require(environment.program(named: "worker"))
        #expect(worker.processes == 1 && worker.ports == nil && worker.health == nil && !worker.isWeb)
        #expect(environment.policy.rollout.batch == .percent(25))
        #expect(environment.policy.rollout.onFailure == .rollback)
        #expect(environment.policy.drift == .heal)
        #expect(environment.supervisorName(of: web, in: .b) == "hello-web-B")
    }

    @Test func hostsMergeDefaultsWithTheirOwnSettings() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        #expect(environment.hosts.map(\.name) == ["web-01", "web-02"])
        let first = try #require(environment.host(named: "web-01"))
        #expect(first.settings.port == 22)
        #expect(first.settings.user == "deploy")
        #expect(first.settings.identity == "~/.ssh/id_ed25519")
        #expect(first.settings.knownHosts == "Environments/prod/known_hosts")
        #expect(first.settings.nginx.check == "http://127.0.0.1/healthz")
        let second = try #require(environment.host(named: "web-02"))
        #expect(second.settings.port == 2222)
        #expect(second.settings.root == "/srv/pinwheel")
    }

    @Test func nestedSettingsMergeFieldByField() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment.replacingOccurrences(
            of: "    port: 2222",
            with: "    port: 2222\n    supervisor: {ctl: supervisorctl -c /etc/alt.conf}\n    programs: {web: {port: {A: 9100, B: 9200}}}")
        let environment = try ConfigLoader(source: InMemorySource(files)).environment("prod")
        let host = try #require(environment.host(named: "web-02"))
        #expect(host.settings.supervisor.ctl == "supervisorctl -c /etc/alt.conf")
        #expect(host.settings.supervisor.include == "/etc/supervisor/conf.d")
        let web = try #require(environment.program(named: "web"))
        #expect(host.processPorts(of: web, in: .a) == [9100, 9101])
        #expect(host.processPorts(of: web, in: .b) == [9200, 9201])
        #expect(environment.host(named: "web-01")?.processPorts(of: web, in: .b) == [8200, 8201])
    }

    @Test func builtInDefaultsFillWhatNobodySet() throws {
        let files = [
            "Environments/mini/environment.yaml": """
                app: mini
                python: /usr/bin/python3
                source: {wheelhouse: /srv/wheels}
                active: B
                slots: {A: a.txt, B: b.txt}
                programs:
                  worker: {command: mini-worker}
                policy: default
                hosts:
                  - {name: here, address: local}
                """,
            "Environments/mini/a.txt": "mini==1.0\n",
            "Environments/mini/b.txt": "mini==2.0\n",
            "Policies/default.yaml": "{}\n",
        ]
        let environment = try ConfigLoader(source: InMemorySource(files)).environment("mini")
        let host = try #require(environment.hosts.first)
        #expect(host.isLocal)
        #expect(host.settings.root == "/srv/pinwheel")
        #expect(host.settings.port == 22)
        #expect(host.settings.nginx.upstream == "/etc/nginx/pinwheel/mini.conf")
        #expect(host.settings.nginx.test == "nginx -t")
        #expect(host.settings.supervisor.ctl == "supervisorctl")
        #expect(environment.source == .wheelhouse("/srv/wheels"))
        #expect(environment.policy == Policy(name: "default"))
    }

    @Test func namedEnvironmentsOnlyCheckTheirPolicies() throws {
        var files = Fixture.files
        files["Policies/unused.yaml"] = "rollout: {batch: 0}\n"
        #expect(try ConfigLoader(source: InMemorySource(files)).load(["prod"]).diagnostics.isEmpty)
        let all = try ConfigLoader(source: InMemorySource(files)).load()
        #expect(all.diagnostics.map(\.location.path) == ["Policies/unused.yaml"])
    }

    @Test func unknownEnvironmentIsItsOwnError() throws {
        #expect(throws: ConfigLoader.UnknownEnvironment.self) {
            try ConfigLoader(source: InMemorySource(Fixture.files)).load(["nope"])
        }
    }

    @Test func folderWithoutEnvironmentFile() throws {
        var files = Fixture.files
        files["Environments/empty/README"] = "nothing"
        let report = try Fixture.load(files)
        #expect(report.diagnostics.map(\.description) == [
            "Environments/empty/environment.yaml:1:1: error: environment `empty` has no environment.yaml; every folder of Environments/ is an environment; add its environment.yaml or remove the folder",
        ])
    }

    @Test func environmentFolderNameMustBeAName() throws {
        var files = Fixture.files
        for (path, text) in Fixture.files where path.hasPrefix("Environments/prod/") {
            files[path.replacingOccurrences(of: "Environments/prod/", with: "Environments/bad name/")] = text
        }
        let report = try Fixture.load(files)
        #expect(report.diagnostics.contains { $0.location.path == "Environments/bad name/environment.yaml" && $0.message.contains("not a valid name") })
        #expect(report.environments["bad name"] == nil)
        #expect(report.environments["prod"] != nil)
    }

    @Test func invalidUTF8IsReportedNotCrashed() throws {
        var source = InMemorySource(Fixture.files)
        source.files[Fixture.environmentPath] = Data([0x61, 0x70, 0x70, 0x3A, 0x20, 0xFF, 0xFE, 0x0A])
        let report = try ConfigLoader(source: source).load()
        #expect(report.diagnostics.map(\.description) == ["Environments/prod/environment.yaml:1:1: error: the file is not UTF-8 text; save it as UTF-8"])
    }

    @Test func everyErrorIsReportedNotOnlyTheFirst() throws {
        var files = Fixture.files
        files[Fixture.environmentPath] = Fixture.environment
            .replacingOccurrences(of: "active: A", with: "active: Z")
            .replacingOccurrences(of: "processes: 2", with: "processes: 99")
            .replacingOccurrences(of: "address: 10.0.0.12", with: "address: \"bad host\"")
        let report = try Fixture.load(files)
        #expect(report.diagnostics.map(\.location.line) == [5, 12, 30])
    }

    @Test func diagnosticsAreSortedByPosition() throws {
        var files = Fixture.files
        files[Fixture.slotAPath] = "click\n"
        files[Fixture.policyPath] = "drift: never\n"
        let report = try Fixture.load(files)
        #expect(report.diagnostics == report.diagnostics.sorted { $0.location < $1.location })
        #expect(report.diagnostics.count >= 2)
    }

    @Test func policyErrorsAreReportedOnceEvenWhenSharedByEnvironments() throws {
        var files = Fixture.files
        for (path, text) in Fixture.files where path.hasPrefix("Environments/prod/") {
            files[path.replacingOccurrences(of: "Environments/prod/", with: "Environments/prod2/")] = text
        }
        files[Fixture.policyPath] = "drift: never\n"
        let report = try Fixture.load(files)
        #expect(report.diagnostics.filter { $0.location.path == Fixture.policyPath }.count == 1)
        #expect(report.diagnostics.filter { $0.message.contains("policy `prod` has errors") }.count == 2)
    }

    @Test func jsonRoundTrips() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let data = try JSONEncoder().encode(environment)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"batch\":\"25%\""))
        #expect(text.contains("\"timeout\":\"2s\""))
        #expect(try JSONDecoder().decode(Environment.self, from: data) == environment)
    }

    @Test func summaryNamesTheActiveSlotAndEveryHost() throws {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        let summary = environment.summary
        #expect(summary.contains("slot A (A.txt) [active]:"))
        #expect(summary.contains("web-02: deploy@10.0.0.12:2222"))
        #expect(summary.contains("web ports: A 8100,8101; B 8200,8201"))
    }
}
