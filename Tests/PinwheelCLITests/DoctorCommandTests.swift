import Foundation
import PinwheelTestSupport
import Testing

/// `pinwheel doctor` as a process against a real loopback fleet (host 31): its exit status and what it prints.
@Suite("pinwheel doctor", .serialized, .tags(.fleet))
struct DoctorCommandTests {
    @Test func exitsZeroWhenEveryHostIsReadyAndOneWithTheFixOtherwise() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: 31)
        let arguments = ["doctor", fleet.environmentName, "--repo", fleet.config] + fleet.allowIdentityArguments
        let ready = try CLIRunner.run(arguments)
        #expect(ready.status == 0, "\(ready.stdout)\(ready.stderr)")
        #expect(ready.stdout.contains("\(fleet.name(0)) (\(fleet.address(0))): ready"))
        #expect(ready.stdout.contains("doctor: 1 of 1 host ready"))

        let verbose = try CLIRunner.run(arguments + ["--verbose"])
        #expect(verbose.stdout.contains("ok       upstream included: "), "\(verbose.stdout)")
        #expect(verbose.stdout.contains("ok       switch verified: Pinwheel's probe \(fleet.address(0)):19100 is free"), "\(verbose.stdout)")

        let config = "\(fleet.hostFolder(0))/supervisor/supervisord.conf"
        _ = try await Shell.run("supervisorctl", ["-c", config, "shutdown"])
        let stopped = try CLIRunner.run(arguments)
        #expect(stopped.status == 1, "\(stopped.stdout)\(stopped.stderr)")
        #expect(stopped.stdout.contains("\(fleet.name(0)) (\(fleet.address(0))): 2 problems"), "\(stopped.stdout)")
        #expect(stopped.stdout.contains("MISSING  supervisord: supervisord is not running"))
        #expect(stopped.stdout.contains("fix: start it: supervisord -c \(config)"))
        #expect(stopped.stdout.contains("doctor: 0 of 1 host ready"))

        let json = try CLIRunner.run(arguments + ["--json"])
        #expect(json.status == 1)
        let checkups = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let checks = try #require(checkups.first?["checks"] as? [[String: Any]])
        #expect(checks.filter { $0["ok"] as? Bool == false }.compactMap { $0["name"] as? String } == ["supervisord", "supervisorctl"])
    }

    @Test func onceASwitchWroteTheProbeTheProbeMustAnswerWithTheSlot() async throws {
        let fleet = try await TestFleet.start(hosts: 1, first: 31)
        let arguments = ["doctor", fleet.environmentName, "--repo", fleet.config, "--verbose"] + fleet.allowIdentityArguments
        let apply = try CLIRunner.run(["apply", fleet.environmentName, "--repo", fleet.config, "--quiet"] + fleet.allowIdentityArguments)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let deployed = try CLIRunner.run(arguments)
        #expect(deployed.status == 0, "\(deployed.stdout)\(deployed.stderr)")
        #expect(deployed.stdout.contains("ok       switch verified: Pinwheel's probe \(fleet.address(0)):19100 answers (status 200) "
                                         + "with X-Pinwheel-Slot: A"), "\(deployed.stdout)")
    }

    @Test(arguments: ["lots", "0", "5.5M", "12Q", "999999999999T", "٣M", ""])
    func aBadSlotSizeIsAUsageError(_ size: String) throws {
        let result = try CLIRunner.run(["doctor", "production", "--repo", CLIRunner.packageRoot.path, "--slot-size", size])
        #expect(result.status == 2, "\(size): \(result.stderr)")
        #expect(result.stderr.contains("--slot-size must be a size"), "\(size)")
    }
}
