import Foundation

/// Times as statuses, logs, events and the API write them: ISO 8601 in UTC (`2026-12-07T16:41:02Z`).
///
/// Through Foundation's ISO 8601 format style, not `ISO8601DateFormatter`: each formatter made costs about 90 µs
/// (the controller's log made one per line) and loads ICU's calendar and time zone data, 2 MB of a controller's
/// resident memory.
public enum Timestamp {
    /// `2026-12-07T16:41:02Z`.
    public static func string(from date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }

    /// `2026-12-07T16:41:02.789Z`, for log lines.
    public static func precise(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// The time `text` (as ``string(from:)`` writes it) says; nil when it is not such a time.
    public static func date(from text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text)
    }
}
