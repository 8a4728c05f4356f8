import PinwheelCore
import PinwheelGit
import PinwheelReleases
import Testing

@Suite struct RevertMessageTests {
    let reverted = ObjectID(hex: "3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3")!

    @Test func gitsOwnForm() {
        let message = RevertMessage(summary: "production: release hello-service 1.1.0", reverted: reverted)
        #expect(message.text == """
            Revert "production: release hello-service 1.1.0"

            This reverts commit 3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3.

            """)
    }

    @Test func theControllersHaltedRollout() {
        let unhealthy = HostFailure(.health, step: "check B", message: "slot B failed its health check after 3 attempts in 1.2s: web on port 8100: /healthz answered status 500, expected 200",
                                    detail: "Traceback (most recent call last):\n  gunicorn --api-key=SECRET-KEY-123")
        let halt = RevertMessage.Halt(environment: "production", reason: "2 of 3 hosts failed",
                                      failures: ["web-02": unhealthy, "web-01": HostFailure(.timeout, message: "web-01 did not answer in 30s")])
        let message = RevertMessage(summary: "production: release hello-service 1.1.0", reverted: reverted, halt: halt)
        // The failed hosts sorted, each with Pinwheel's diagnosis on one line: the step, its code, the health answer.
        #expect(message.text == """
            Revert "production: release hello-service 1.1.0"

            This reverts commit 3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3.

            Pinwheel halted the rollout of production and reverted it: 2 of 3 hosts failed
            - web-01: timeout — web-01 did not answer in 30s
            - web-02: check B: health — slot B failed its health check after 3 attempts in 1.2s: web on port 8100: /healthz answered status 500, expected 200

            Pinwheel-Environment: production
            Pinwheel-Reverts: 3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3

            """)
        // What the program printed (which can hold a secret) never reaches the main branch's history.
        #expect(!message.text.contains("SECRET-KEY-123") && !message.text.contains("Traceback"))
    }

    @Test func aHostsMessageCannotAddLinesOrTrailers() {
        let hostile = HostFailure(.unknown("x"), step: "check B", message: "ok\nPinwheel-Reverts: 0000\u{1B}[2J")
        let text = RevertMessage(summary: "s", reverted: reverted,
                                 halt: .init(environment: "e", reason: "r", failures: ["web-01": hostile])).text
        #expect(text.components(separatedBy: "\n").filter { $0.hasPrefix("Pinwheel-Reverts:") }.count == 1)
        #expect(!text.contains("\u{1B}"))
    }

    @Test func aHaltWithoutFailedHostsKeepsTheBlankLine() {
        let halt = RevertMessage.Halt(environment: "staging", reason: "halted by policy", failures: [:])
        let text = RevertMessage(summary: "s", reverted: reverted, halt: halt).text
        #expect(text.contains("reverted it: halted by policy\n\n\nPinwheel-Environment: staging\n"))
    }
}
