import Foundation
import PinwheelCore
import Testing

/// What `validate` (run on every pull request) says of the values a commit could use to run something it should not:
/// configured commands that are not argument vectors of their own programs, hosts that would run on the controller,
/// pins without hashes under a policy that requires them. Each error says where, what and what to do.
@Suite("Trust boundary validation")
struct TrustBoundaryValidationTests {
    func diagnostics(_ environment: String? = nil, policy: String? = nil, slotA: String? = nil) throws -> [Diagnostic] {
        var files = Fixture.files
        if let environment { files[Fixture.environmentPath] = environment }
        if let policy { files[Fixture.policyPath] = policy }
        if let slotA { files[Fixture.slotAPath] = slotA }
        return try Fixture.load(files).diagnostics
    }

    func withSettings(_ line: String) -> String {
        Fixture.environment.replacingOccurrences(of: "    port: 2222", with: "    port: 2222\n" + line)
    }

    @Test(arguments: [
        ("supervisor: {ctl: sh -c supervisorctl}", "`supervisor.ctl` of host `web-02` must run supervisorctl"),
        ("supervisor: {ctl: \"supervisorctl;touch /tmp/x\"}", "never by a shell"),
        ("supervisor: {ctl: supervisorctl -c /etc/s.conf update}", "may only give supervisorctl `-c FILE` and `-s URL`"),
        ("supervisor: {ctl: /tmp/bin/supervisorctl}", "must run supervisorctl"),
        ("supervisor: {ctl: sudo -s supervisorctl}", "must run supervisorctl"),
        ("nginx: {test: python3 -c print}", "`nginx.test` of host `web-02` must run nginx or systemctl or service"),
        ("nginx: {reload: \"nginx -s reload $(id)\"}", "never by a shell"),
        ("nginx: {test: nginx -t -c /srv/pinwheel/prod/slots/A/venv/evil.conf}", "inside its deploy root /srv/pinwheel"),
        ("nginx: {test: nginx -t -c /etc/../srv/pinwheel/evil.conf}", "climbs out with `..`"),
    ])
    func aConfiguredCommandThatIsNoArgumentVectorOfItsProgramIsAnError(line: String, said: String) throws {
        let found = try diagnostics(withSettings("    " + line)).filter { $0.severity == .error }
        let error = try #require(found.first, "\(line)")
        #expect(error.message.contains(said), "\(error)")
        #expect(error.location.path == Fixture.environmentPath && error.location.line > 1, "\(error)")
    }

    @Test(arguments: ["supervisorctl", "supervisorctl -c /etc/supervisor/supervisord.conf", "sudo -n /usr/bin/supervisorctl -s unix:///run/s.sock",
                      "supervisorctl --configuration=/etc/s.conf"])
    func theUsualSupervisorctlCommandsAreValid(ctl: String) throws {
        #expect(try diagnostics(withSettings("    supervisor: {ctl: \(ctl)}")).filter { $0.severity == .error }.isEmpty)
        #expect(HostCommandRules.problem(ctl, key: "supervisor.ctl") == nil)
    }

    @Test func theUsualNginxCommandsAreValid() {
        for (key, text) in [("nginx.test", "nginx -t"), ("nginx.test", "sudo -n nginx -t -c /etc/nginx/nginx.conf"),
                            ("nginx.reload", "sudo systemctl reload nginx"), ("nginx.reload", "/usr/sbin/service nginx reload")] {
            #expect(HostCommandRules.problem(text, key: key) == nil, "\(text)")
        }
        #expect(HostCommandRules.pathInside("nginx -t -c /etc/nginx/nginx.conf", root: "/srv/pinwheel") == nil)
        #expect(HostCommandRules.pathInside("nginx -t -c /srv/pinwheelish/x", root: "/srv/pinwheel") == nil)
        #expect(HostCommandRules.pathInside("supervisorctl --configuration=/srv/pinwheel/x", root: "/srv/pinwheel/") == "/srv/pinwheel/x")
    }

    @Test func aLocalHostIsAWarningThatSaysWhoMayAllowIt() throws {
        let environment = Fixture.environment.replacingOccurrences(of: "address: 10.0.0.12", with: "address: local")
        let found = try diagnostics(environment)
        #expect(found.filter { $0.severity == .error }.isEmpty, "\(found)")
        let warning = try #require(found.first { $0.severity == .warning })
        #expect(warning.message.contains("host `web-02` has `address: local`: it runs on the controller's own machine"))
        #expect(warning.message.contains("--allow-local-hosts"))
        #expect(warning.location.path == Fixture.environmentPath)
        #expect(try diagnostics().isEmpty, "no warning without a local host")
    }

    @Test func requireHashesNamesEveryUnhashedPinWhereItIs() throws {
        let found = try diagnostics(policy: Fixture.policy + "requireHashes: true\n").filter { $0.severity == .error }
        #expect(found.count == 4, "two pins in each slot file: \(found)")
        let first = try #require(found.first { $0.location.path == Fixture.slotAPath })
        #expect(first.message.contains("`hello-service` has no `--hash`, and policy `prod` requires one on every pin (`requireHashes: true`)"))
        #expect(first.location.line == 2 && first.location.column == 1, "\(first)")
        #expect(first.hint?.contains("--generate-hashes") == true)
    }

    @Test func requireHashesAcceptsHashedPinsAndIsOffByDefault() throws {
        let hash = "--hash=sha256:" + String(repeating: "a", count: 64)
        let hashed = "hello-service==1.0.0 \(hash)\nclick==8.1.7 \(hash)\n"
        var files = Fixture.files
        files[Fixture.policyPath] = Fixture.policy + "requireHashes: true\n"
        files[Fixture.slotAPath] = hashed
        files[Fixture.slotBPath] = hashed
        let report = try Fixture.load(files)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        #expect(report.policies["prod"]?.requireHashes == true)
        #expect(try Fixture.load().policies["prod"]?.requireHashes == false)
        let wrong = try diagnostics(policy: Fixture.policy + "requireHashes: yes please\n")
        #expect(wrong.contains { $0.location.path == Fixture.policyPath && $0.message.contains("requireHashes") })
    }
}
