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
        let halt = RevertMessage.Halt(environment: "production", reason: "2 of 3 hosts failed",
                                      failures: ["web-02": "health check failed\nline two\nline three\nline four", "web-01": "timeout"])
        let message = RevertMessage(summary: "production: release hello-service 1.1.0", reverted: reverted, halt: halt)
        // The text the controller has always written: the failed hosts sorted, each error's first three lines on one.
        #expect(message.text == """
            Revert "production: release hello-service 1.1.0"

            This reverts commit 3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3.

            Pinwheel halted the rollout of production and reverted it: 2 of 3 hosts failed
            - web-01: timeout
            - web-02: health check failed line two line three

            Pinwheel-Environment: production
            Pinwheel-Reverts: 3f2a1c9d0e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3

            """)
    }

    @Test func aHaltWithoutFailedHostsKeepsTheBlankLine() {
        let halt = RevertMessage.Halt(environment: "staging", reason: "halted by policy", failures: [:])
        let text = RevertMessage(summary: "s", reverted: reverted, halt: halt).text
        #expect(text.contains("reverted it: halted by policy\n\n\nPinwheel-Environment: staging\n"))
    }
}
