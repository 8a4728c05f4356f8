import CoreMetrics
import PinwheelCore

extension ControllerMetrics.Name {
    /// Counter (result, type): notifications by what became of them — `delivered`, `retried` (an attempt that
    /// will be tried again), `failed` (given up, or refused by the receiver), `dropped` (the queue was full).
    public static let notifications = "pinwheel_notifications_total"
}

extension ControllerMetrics {
    public enum NotificationResult: String, Sendable, CaseIterable {
        case delivered, retried, failed, dropped
    }

    func notification(result: NotificationResult, format: NotifyTarget.Format) {
        Counter(label: Name.notifications, dimensions: [("result", result.rawValue), ("type", format.rawValue)],
                factory: factory).increment()
    }
}
