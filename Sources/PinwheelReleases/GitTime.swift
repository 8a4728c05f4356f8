import Foundation
import PinwheelGit

extension Signature {
    /// The time with its recorded offset, ISO 8601 (`2024-05-01T10:00:00+02:00`).
    public var iso8601: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(secondsFromGMT: timeZoneOffsetMinutes * 60) ?? .gmt
        return formatter.string(from: date)
    }
}
