import Foundation
import PinwheelCore
import Testing

/// The times statuses and logs write, without an ICU formatter: the same text `ISO8601DateFormatter` wrote, so
/// statuses written before read the same.
@Suite("Timestamps")
struct TimestampTests {
    @Test func theTextIsWhatTheISOFormatterWrote() {
        let date = Date(timeIntervalSince1970: 1_765_123_456.789)
        #expect(Timestamp.string(from: date) == "2025-12-07T16:04:16Z")
        #expect(Timestamp.string(from: date) == ISO8601DateFormatter().string(from: date))
        let precise = ISO8601DateFormatter()
        precise.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(Timestamp.precise(date) == precise.string(from: date))
    }

    @Test func aWrittenTimeReadsBack() throws {
        let written = "2026-12-07T16:50:01Z"
        let date = try #require(Timestamp.date(from: written))
        #expect(Timestamp.string(from: date) == written)
        #expect(date == ISO8601DateFormatter().date(from: written))
        #expect(Timestamp.date(from: "yesterday") == nil)
        #expect(Timestamp.date(from: "") == nil)
    }
}
