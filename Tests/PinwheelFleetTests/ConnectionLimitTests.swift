import Foundation
import PinwheelProcess
import Synchronization
import Testing
@testable import PinwheelFleet

/// `watch --max-connections`: however many environments run at once, no more round trips are open than the cap,
/// and every one of them runs.
@Suite("Connection limit")
struct ConnectionLimitTests {
    /// A transport that counts how many of its round trips are open at once.
    final class CountingTransport: Transport, @unchecked Sendable {
        let open = Mutex(0)
        let most = Mutex(0)

        func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
            let now = open.withLock { $0 += 1; return $0 }
            most.withLock { $0 = max($0, now) }
            try await Task.sleep(for: .milliseconds(5))
            open.withLock { $0 -= 1 }
            return CommandOutput(status: 0, standardOutput: script.text, standardError: "")
        }

        func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 { 0 }
        func interactive(python: String, script: ProcessInput) async throws -> Int32 { 0 }
    }

    @Test func roundTripsNeverExceedTheCapAndAllRun() async throws {
        let base = CountingTransport()
        let limit = ConnectionLimit(4)
        // Forty "hosts" of several environments, each its own transport over the one shared limit.
        let transports = (0..<40).map { _ in LimitedTransport(base, limit: limit) }
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for (index, transport) in transports.enumerated() {
                group.addTask { try await transport.run(python: "python3", script: "\(index)", timeout: .seconds(5)).standardOutput }
            }
            var answers: [String] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        #expect(answers.count == 40 && Set(answers).count == 40, "every round trip ran")
        #expect(base.most.withLock { $0 } <= 4)
        #expect(await limit.peak == 4, "and the cap was used")
    }

    @Test func aFailedRoundTripGivesItsPlaceBack() async throws {
        struct Failing: Transport {
            func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
                throw FleetError(.unreachable, "down")
            }
            func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 { 0 }
            func interactive(python: String, script: ProcessInput) async throws -> Int32 { 0 }
        }
        let limit = ConnectionLimit(1)
        let failing = LimitedTransport(Failing(), limit: limit)
        for _ in 0..<3 {
            await #expect(throws: FleetError.self) { try await failing.run(python: "p", script: "s", timeout: .seconds(1)) }
        }
        let working = LimitedTransport(CountingTransport(), limit: limit)
        #expect(try await working.run(python: "p", script: "ok", timeout: .seconds(1)).standardOutput == "ok")
    }
}
