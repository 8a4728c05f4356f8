import Foundation
import PinwheelCore
import PinwheelFleet

extension Controller {
    /// The time a status, an event or a progress line records: now, in ISO 8601.
    static func now() -> String {
        Timestamp.string(from: Date())
    }

    /// A duration as the logs write it, in seconds with two decimals.
    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", duration.inSeconds)
    }
}
