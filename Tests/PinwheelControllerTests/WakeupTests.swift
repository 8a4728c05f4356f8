import Testing
@testable import PinwheelController

/// The loop's wake-up: a signal ends exactly one wait, whether it comes before the wait or during it.
@Suite("Wakeup")
struct WakeupTests {
    @Test func aSignalEndsOneWaitAndOnlyOne() async {
        let wakeup = Wakeup()
        #expect(await wakeup.wait(timeout: .milliseconds(20)) == false)
        wakeup.signal()
        let clock = ContinuousClock()
        let early = await clock.measure { #expect(await wakeup.wait(timeout: .seconds(30)) == true) }
        #expect(early < .seconds(5))
        // Taken by that wait: the next one runs to its timeout.
        #expect(await wakeup.wait(timeout: .milliseconds(50)) == false)
    }

    @Test func aSignalDuringAWaitEndsIt() async {
        let wakeup = Wakeup()
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            wakeup.signal()
        }
        let clock = ContinuousClock()
        let waited = await clock.measure { #expect(await wakeup.wait(timeout: .seconds(30)) == true) }
        #expect(waited < .seconds(10))
        #expect(await wakeup.wait(timeout: .milliseconds(50)) == false)
    }
}
