import Foundation
import Testing
@testable import PinwheelCore

/// A host's failure reaches the status file as data (a `reason` per host and for the environment: code, step,
/// message) and as Pinwheel's diagnosis only: what the host printed stays out of git. Older status files still read.
@Suite("Host failures in the status")
struct HostFailureStatusTests {
    static let desired = String(repeating: "b", count: 40)
    static let secret = "API_KEY=sk-live-123"
    static let unhealthy = HostFailure(.health, step: "check B", message: "slot B failed its health check: web on port 8100: /healthz answered status 500, expected 200",
                                       detail: "Traceback …\ngunicorn --env \(secret)")

    func status(errors: [String: HostFailure], result: EnvironmentStatus.Result = .halted) throws -> EnvironmentStatus {
        let environment = try ConfigLoader(source: InMemorySource(Fixture.files)).environment("prod")
        return EnvironmentStatus(environment: environment, commit: Self.desired, result: result, message: "halted: 1 host failed",
                                 time: "2026-11-20T12:00:00Z", observations: [:], errors: errors)
    }

    @Test func eachFailedHostAndTheEnvironmentHaveAReason() throws {
        let status = try status(errors: ["web-02": Self.unhealthy])
        let expected = StatusReason(code: "health", step: "check B", message: Self.unhealthy.message)
        #expect(status.hosts["web-02"]?.reason == expected)
        #expect(status.hosts["web-02"]?.healthy == false)
        #expect(status.hosts["web-01"]?.reason == nil)
        #expect(status.cause == StatusReason(code: "health", step: "check B", message: "web-02: \(Self.unhealthy.message)"))
        #expect(status.reason == "health")
        let parsed = try EnvironmentStatus.parse(status.yaml())
        #expect(parsed == status)
        #expect(parsed.hosts["web-02"]?.reason?.code == "health")
    }

    @Test func whatTheHostPrintedNeverReachesGit() throws {
        let status = try status(errors: ["web-02": Self.unhealthy])
        let yaml = try status.yaml()
        #expect(!yaml.contains(Self.secret) && !yaml.contains("Traceback"), "\(yaml)")
        #expect(!status.commitMessage.contains(Self.secret))
        #expect(status.commitMessage.contains("Pinwheel-Reason: health\nPinwheel-Reason-Step: check B\n"))
    }

    @Test func theTrailersReadBackTheCodeAndStep() throws {
        let status = try status(errors: ["web-01": HostFailure(.unreachable, message: "web-01 did not answer")], result: .degraded)
        let trailers = status.commitMessage.split(separator: "\n").filter { $0.hasPrefix("Pinwheel-") }.map { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (key: String(parts[0]), value: String(parts[1]))
        }
        let record = try #require(StatusRecord.parse(summary: status.summary, trailers: trailers))
        #expect(record.reason == "unreachable" && record.reasonStep == nil)
    }

    @Test func aConvergedStatusHasNoReason() throws {
        #expect(try status(errors: [:], result: .converged).cause == nil)
    }

    @Test func olderStatusFilesStillRead() throws {
        // Before hosts had a reason, and when the environment's reason was a bare admission code.
        let old = try EnvironmentStatus.parse("""
            environment: prod
            desired: \(Self.desired)
            result: waiting
            message: the deploy window is closed
            time: 2026-11-20T12:00:00Z
            reason: windowClosed
            hosts:
              web-01:
                serving: A
                slots: {}
                healthy: false
                error: "web-01: check A failed: slot A failed its health check"

            """)
        #expect(old.reason == "windowClosed" && old.cause == StatusReason(code: "windowClosed"))
        #expect(old.hosts["web-01"]?.reason == nil && old.hosts["web-01"]?.error != nil)
    }

    @Test func anUnknownCodeFromAHostIsKeptEscaped() {
        let failure = HostFailure(FailureCode("bad\ncode"), message: "line one\nPinwheel-Reverts: 0\u{7}")
        #expect(failure.code == .unknown("bad\\ncode"))
        #expect(!failure.message.contains("\n") && !failure.message.contains("\u{7}"))
        #expect(failure.reason.code == "bad\\ncode")
    }

    @Test func aHostsDetailIsBoundedKeepingItsEnd() {
        let long = (1...2000).map { "line \($0)" }.joined(separator: "\n")
        let failure = HostFailure(.install, step: "prepare B", message: "pip install failed (exit 1)", detail: long + "\u{1B}[2J")
        let detail = failure.detail ?? ""
        #expect(detail.count == HostText.detailLimit)
        #expect(detail.hasSuffix("line 2000\\u{1B}[2J"), "the newest lines are kept, the escape shown, not sent")
        #expect(detail.contains("\n"), "line breaks are kept in the detail")
    }
}
