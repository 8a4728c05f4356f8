import PinwheelCore
import Testing
@testable import PinwheelController

/// The drift check's pure decision: which differing hosts are behind (never received the commit) and which drifted
/// (received it and changed), what each drift mode does with every mix, and the status a reconcile of the hosts
/// behind publishes.
@Suite("Drift triage")
struct DriftTriageTests {
    static let healthyB = EnvironmentStatus.HostStatus(serving: .b, slots: ["B": ["hello-service==1.1.0"]], healthy: true)
    static let downOnA = EnvironmentStatus.HostStatus(serving: .a, slots: ["A": ["hello-service==1.0.0"]], healthy: false,
                                                      error: "unreachable: connection refused",
                                                      reason: StatusReason(code: "unreachable", step: "observe"))

    /// web-01 and web-03 received the release; web-02 was down during it; web-04 is not in the status at all.
    static func status(result: EnvironmentStatus.Result = .degraded) -> EnvironmentStatus {
        EnvironmentStatus(environment: "fleet", desired: String(repeating: "a", count: 40), result: result,
                          message: "1 host unreachable", time: "2026-12-07T06:00:00Z", active: .b,
                          pins: ["hello-service==1.1.0"],
                          hosts: ["web-01": healthyB, "web-02": downOnA, "web-03": healthyB])
    }

    @Test func aHostWithAReasonOrMissingFromTheStatusIsBehindOneRecordedHealthyDrifted() {
        let triage = DriftTriage(differing: ["web-04", "web-03", "web-02"], status: Self.status())
        #expect(triage.behind == ["web-02", "web-04"])
        #expect(triage.drifted == ["web-03"])
        #expect(DriftTriage(differing: ["web-01"], status: nil).behind == ["web-01"], "no status: nothing was received")
    }

    @Test(arguments: [
        // (differing, mode, response)
        ([String](), Policy.DriftMode.report, DriftTriage.Response.nothing),
        ([], .heal, .nothing),
        (["web-02"], .report, .reconcileAll),
        (["web-02"], .heal, .reconcileAll),
        (["web-03"], .report, .report),
        (["web-03"], .heal, .reconcileAll),
        (["web-02", "web-03"], .report, .reconcileBehind),
        (["web-02", "web-03"], .heal, .reconcileAll),
    ])
    func eachMixOfBehindAndDriftedGetsItsResponse(differing: [String], mode: Policy.DriftMode,
                                                   response: DriftTriage.Response) {
        #expect(DriftTriage(differing: differing, status: Self.status()).response(mode) == response)
    }

    @Test func aReconcileOfTheHostsBehindKeepsEveryOtherHostsLastEntry() {
        let triage = DriftTriage(differing: ["web-02", "web-03"], status: Self.status())
        let kept = triage.kept(of: ["web-01", "web-02", "web-03"], status: Self.status())
        #expect(Set(kept.hosts.keys) == ["web-01", "web-03"])
        #expect(kept.drifted == ["web-03"])

        // What the engine reported: only web-02, now on B. The status names all three, web-03's drift reported.
        var reconciled = Self.status(result: .converged)
        reconciled.message = "1/1 hosts on slot B"
        reconciled.hosts = ["web-01": EnvironmentStatus.HostStatus(serving: nil, slots: [:], healthy: false),
                            "web-02": Self.healthyB, "web-03": EnvironmentStatus.HostStatus(serving: nil, slots: [:], healthy: false)]
        let status = DriftTriage.keeping(kept, in: reconciled, commit: "aaaaaaa")
        #expect(status.hosts["web-01"] == Self.healthyB && status.hosts["web-03"] == Self.healthyB)
        #expect(status.hosts["web-02"] == Self.healthyB)
        #expect(status.result == .degraded)
        #expect(status.message == "drift: web-03 no longer matches aaaaaaa")
    }

    @Test func aDegradedOrHaltedReconcileOfTheHostsBehindKeepsItsResult() {
        let kept = DriftTriage.Kept(hosts: ["web-03": Self.healthyB], drifted: ["web-03"])
        var degraded = Self.status()
        degraded.message = "web-02 unreachable"
        let stillDegraded = DriftTriage.keeping(kept, in: degraded, commit: "aaaaaaa")
        #expect(stillDegraded.result == .degraded)
        #expect(stillDegraded.message == "web-02 unreachable; drift: web-03 no longer matches aaaaaaa")
        let halted = DriftTriage.keeping(kept, in: Self.status(result: .halted), commit: "aaaaaaa")
        #expect(halted.result == .halted && halted.message == "1 host unreachable")
        #expect(halted.hosts["web-03"] == Self.healthyB)
    }

    @Test func aReportNamesTheDriftedHosts() {
        let status = DriftTriage.reported(Self.status(result: .converged), hosts: ["web-03", "web-01"], commit: "aaaaaaa",
                                          time: "2026-12-07T06:01:00Z")
        #expect(status.result == .degraded)
        #expect(status.message == "drift: web-01, web-03 no longer match aaaaaaa")
        #expect(status.time == "2026-12-07T06:01:00Z")
    }
}
