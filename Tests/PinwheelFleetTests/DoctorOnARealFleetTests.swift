import Foundation
import PinwheelConfig
import PinwheelCore
import PinwheelTestSupport
import Testing
@testable import PinwheelFleet

/// `pinwheel doctor` against a real loopback fleet: hosts broken in each way the fleet can be broken, each reported
/// with its fix, and the hosts left alone passing.
@Suite("Doctor on a real fleet", .serialized, .tags(.fleet))
struct DoctorOnARealFleetTests {
    static let first = 21

    /// The doctor as the command runs it: transports made by `TransportFactory` from the config (its known-hosts file
    /// and key), a new connection each time.
    /// `--allow-local-hosts` is given, as an operator would for the host this suite turns into `address: local`.
    func examine(_ fleet: TestFleet, slotBytes: Int = HostDoctor.defaultSlotBytes) async throws -> [HostCheckup] {
        let environment = try fleet.environment()
        var trust = fleet.localFileTrust
        trust.allowsLocalHosts = true
        let transports = try TransportFactory.transports(for: environment, source: DirectoryConfigSource(root: fleet.config),
                                                         controlDirectory: "\(fleet.directory)/cm", trust: trust,
                                                         multiplexed: false)
        return await FleetDoctor.examine(environment, transports: transports, slotBytes: slotBytes)
    }

    func failed(_ checkup: HostCheckup) -> Set<String> {
        Set(checkup.checks.filter { !$0.ok }.map(\.name))
    }

    func check(_ checkup: HostCheckup, _ name: String) throws -> HostCheck {
        try #require(checkup.checks.first { $0.name == name }, "\(checkup.host) has no check \(name): \(checkup.checks.map(\.name))")
    }

    static let everyCheck: Set = ["ssh", "uv", "python", "supervisord", "supervisorctl", "supervisord socket", "supervisor include folder",
                                  "supervisor include", "nginx", "nginx -t", "upstream folder", "upstream included", "switch verified",
                                  "disk", "root", "clock"]

    @Test func aReadyFleetPassesAndEachBrokenPrerequisiteIsReportedWithItsFix() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        let before = try await fleet.snapshot(0)
        let ready = try await examine(fleet)
        // The doctor changes nothing: no file, no process, and no probe file left in the folders it tried.
        #expect(try await fleet.snapshot(0) == before)
        for folder in ["supervisor/conf.d", "nginx/pinwheel", "srv"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: "\(fleet.hostFolder(0))/\(folder)")
            #expect(!names.contains { $0.hasPrefix(".pinwheel-doctor") }, "\(folder): \(names)")
        }
        #expect(ready.map(\.host) == (0..<3).map(fleet.name))
        for (index, checkup) in ready.enumerated() {
            #expect(checkup.ready, "\(checkup.problems)")
            #expect(Set(checkup.checks.map(\.name)) == Self.everyCheck)
            #expect(failed(checkup).isEmpty, "\(checkup.problems)")
            // Before the first switch, the probe's address only has to be free.
            #expect(try check(checkup, "switch verified").detail.contains("Pinwheel's probe \(fleet.address(index)):19100 is free"))
        }

        // web-22: supervisord stopped, nginx's config broken.
        let supervisorConfig = "\(fleet.hostFolder(1))/supervisor/supervisord.conf"
        _ = try await Shell.run("supervisorctl", ["-c", supervisorConfig, "shutdown"])
        let nginxConfig = "\(fleet.hostFolder(1))/nginx/nginx.conf"
        try (try String(contentsOfFile: nginxConfig, encoding: .utf8) + "\nthis is not nginx;\n")
            .write(toFile: nginxConfig, atomically: false, encoding: .utf8)
        // web-23: the include folder exists but supervisord does not include it; the upstream file's folder is missing
        // and nginx does not include that file; nothing answers its `nginx.check`.
        let elsewhere = "\(fleet.hostFolder(2))/supervisor/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "\(fleet.hostFolder(2))/supervisor/conf.d", with: elsewhere)
                .replacingOccurrences(of: "\(fleet.hostFolder(2))/nginx/pinwheel/hello.conf", with: "\(fleet.hostFolder(2))/nginx/other/hello.conf")
                .replacingOccurrences(of: "check: http://\(fleet.address(2))/healthz", with: "check: http://\(fleet.address(2)):1/healthz")
        }

        let broken = try await examine(fleet)
        #expect(broken[0].ready, "\(broken[0].problems)")
        #expect(failed(broken[1]) == ["supervisord", "supervisorctl", "nginx -t", "upstream included"])
        #expect(!broken[1].ready)
        #expect(try check(broken[1], "supervisord").fix?.contains("supervisord -c \(supervisorConfig)") == true)
        #expect(try check(broken[1], "nginx -t").detail.contains("unknown directive \"this\""))
        #expect(failed(broken[2]) == ["supervisor include", "upstream folder", "upstream included", "switch verified"])
        #expect(try check(broken[2], "switch verified").detail.contains("does not answer"))
        #expect(try check(broken[2], "supervisor include").fix?.contains("files = \(elsewhere)/*.conf") == true)
        #expect(try check(broken[2], "upstream folder").detail.contains("does not exist"))
        #expect(try check(broken[2], "upstream folder").fix?.contains("install -d -o root \(fleet.hostFolder(2))/nginx/other") == true)
        #expect(try check(broken[2], "upstream included").fix?.contains("include \(fleet.hostFolder(2))/nginx/other/hello.conf;") == true)

        // No room for two slots of a petabyte each.
        let full = try await examine(fleet, slotBytes: 1 << 50)
        #expect(failed(full[0]) == ["disk"])
        #expect(try check(full[0], "disk").detail.contains("needed for two slots"))
    }

    @Test func aWrongInterpreterAWrongHostKeyAndARefusedKeyAreReported() async throws {
        let fleet = try await TestFleet.start(hosts: 3, first: Self.first)
        // The interpreter: the doctor still runs (on the host's python3) and checks everything else.
        try fleet.editEnvironment { $0.replacingOccurrences(of: "python: /usr/bin/python3", with: "python: /opt/nowhere/bin/python3") }
        let noPython = try await examine(fleet)
        for checkup in noPython {
            #expect(failed(checkup) == ["python"], "\(checkup.problems)")
            #expect(try check(checkup, "python").detail.contains("/opt/nowhere/bin/python3 does not exist"))
            #expect(Set(checkup.checks.map(\.name)) == Self.everyCheck)
        }
        try fleet.editEnvironment { $0.replacingOccurrences(of: "python: /opt/nowhere/bin/python3", with: "python: /usr/bin/python3") }

        // A slot's own interpreter (per-slot Python) is checked under its slot's name.
        try fleet.editEnvironment { $0.replacingOccurrences(of: "  B: B.txt\n", with: "  B: {pins: B.txt, python: /opt/nowhere/bin/python3.13}\n") }
        let slotPython = try await examine(fleet)
        for checkup in slotPython {
            #expect(failed(checkup) == ["python (slot B)"], "\(checkup.problems)")
            #expect(try check(checkup, "python").ok)
        }
        try fleet.editEnvironment { $0.replacingOccurrences(of: "  B: {pins: B.txt, python: /opt/nowhere/bin/python3.13}\n", with: "  B: B.txt\n") }

        // web-22's line carries web-21's key: never connected to. web-23 has no line at all.
        let lines = try String(contentsOfFile: fleet.knownHosts, encoding: .utf8).split(separator: "\n").map(String.init)
        let key = { (index: Int) in try #require(lines.first { $0.hasPrefix(fleet.address(index) + " ") }) }
        let wrong = [try key(0), try key(0).replacingOccurrences(of: fleet.address(0) + " ", with: fleet.address(1) + " ")]
        let wrongFile = "\(fleet.directory)/wrong_known_hosts"
        try (wrong.joined(separator: "\n") + "\n").write(toFile: wrongFile, atomically: false, encoding: .utf8)
        try fleet.editEnvironment { $0.replacingOccurrences(of: "knownHosts: \(fleet.knownHosts)", with: "knownHosts: \(wrongFile)") }
        let keys = try await examine(fleet)
        #expect(keys[0].ready, "\(keys[0].problems)")
        for index in 1..<3 {
            let checkup = keys[index]
            #expect(checkup.checks.map(\.name) == ["ssh"])
            #expect(!checkup.ready)
            let ssh = try check(checkup, "ssh")
            #expect(ssh.detail.contains("host key"), "\(ssh.detail)")
            #expect(ssh.fix?.contains("ssh-keyscan -t ed25519 \(fleet.address(index))") == true, "\(ssh.fix ?? "")")
        }
        try fleet.editEnvironment { $0.replacingOccurrences(of: "knownHosts: \(wrongFile)", with: "knownHosts: \(fleet.knownHosts)") }

        // A key the hosts do not accept.
        let otherKey = "\(fleet.directory)/other_ed25519"
        _ = try await Shell.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey])
        try fleet.editEnvironment { $0.replacingOccurrences(of: "identity: \(fleet.directory)/id_ed25519", with: "identity: \(otherKey)") }
        let refused = try await examine(fleet)
        for checkup in refused {
            let ssh = try check(checkup, "ssh")
            #expect(!ssh.ok)
            #expect(ssh.fix?.contains("ssh-copy-id -i \(otherKey).pub") == true, "\(ssh.detail) \(ssh.fix ?? "")")
        }

        // web-21 as `address: local`: the doctor runs on this machine without SSH, and still finds a wrong interpreter.
        try fleet.editEnvironment {
            $0.replacingOccurrences(of: "identity: \(otherKey)", with: "identity: \(fleet.directory)/id_ed25519")
                .replacingOccurrences(of: "address: \(fleet.address(0))\n", with: "address: local\n")
        }
        let local = try await examine(fleet)
        #expect(local.map(\.ready) == [true, true, true], "\(local.map(\.problems))")
        #expect(try check(local[0], "ssh").detail.contains("address: local"))
        try fleet.editEnvironment { $0.replacingOccurrences(of: "python: /usr/bin/python3", with: "python: /opt/nowhere/bin/python3") }
        let localNoPython = try await examine(fleet)
        #expect(try check(localNoPython[0], "python").ok == false)
        #expect(try check(localNoPython[0], "python").detail.contains("/opt/nowhere/bin/python3"))
    }
}

/// The clock check's judgement, purely: a slow round trip never makes a good clock look skewed.
@Suite struct ClockSkewTests {
    @Test func aClockWithinTheLimitPasses() {
        #expect(ClockSkew(hostTime: 1000.5, started: 1000, answered: 1001).withinLimit)
        #expect(ClockSkew(hostTime: 998.5, started: 1000, answered: 1000.2).withinLimit)
    }

    @Test func aClockBeyondTheLimitFailsEitherWay() {
        let ahead = ClockSkew(hostTime: 1010, started: 1000, answered: 1000.5)
        #expect(!ahead.withinLimit)
        #expect(ahead.check.detail.contains("ahead of"))
        #expect(ahead.check.fix != nil)
        let behind = ClockSkew(hostTime: 990, started: 1000, answered: 1000.5)
        #expect(!behind.withinLimit)
        #expect(behind.check.detail.contains("behind"))
    }

    @Test func aSlowRoundTripIsNotSkew() {
        // The host answered 30 s after the request left: its clock may be right anywhere in between.
        #expect(ClockSkew(hostTime: 1025, started: 1000, answered: 1030).withinLimit)
    }
}
