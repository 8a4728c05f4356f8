import Foundation
import MetricsTestKit
@testable import PinwheelController
import PinwheelTestSupport

extension HookReceiver {
    /// A policy's `notify:` naming one webhook whose URL is read from `$PINWHEEL_HOOK_URL`: appended to a test's policy,
    /// it sends the environment's own events to this receiver's `webhook` hook (through `notifier(logs:)`).
    static let policyWebhook = """
        notify:
          - type: webhook
            url: {env: PINWHEEL_HOOK_URL}

        """

    /// A notifier that reads `$PINWHEEL_HOOK_URL` as this receiver's `webhook` hook, logging to `logs`.
    func notifier(logs: CapturedLogs) -> Notifier {
        let environment = ["PINWHEEL_HOOK_URL": url("webhook")]
        return Notifier(logger: logs.logger(), metrics: ControllerMetrics(factory: TestMetrics()),
                        readURL: { try NotificationURL.read($0, environment: environment) })
    }

    /// The events the `webhook` hook accepted, in order.
    func events() throws -> [NotificationEvent] {
        try accepted("webhook").map { try JSONDecoder().decode(NotificationEvent.self, from: Data($0)) }
    }
}
