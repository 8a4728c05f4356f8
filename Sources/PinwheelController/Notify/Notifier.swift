import Foundation
import Logging
import PinwheelCore
import Synchronization

/// Delivers notifications without ever making a rollout wait: `send` only queues and returns. Each target has
/// its own bounded queue (100 events; when full the oldest is dropped and counted) and at most one task delivering
/// from it, in order, with retries and exponential backoff; one slow or dead receiver never delays another.
///
/// Failures are logged (the target is named by where its URL is read, never by the URL) and counted in
/// `pinwheel_notifications_total{result="delivered|retried|failed|dropped"}`.
public final class Notifier: Sendable {
    /// POSTs a body to a URL and answers the HTTP status; tests and benchmarks inject their own.
    public typealias Post = @Sendable (_ url: URL, _ body: [UInt8]) async throws -> Int

    private let logger: Logger
    private let metrics: ControllerMetrics
    private let retry: RetryPolicy
    private let capacity: Int
    private let post: Post
    private let sleep: @Sendable (Duration) async -> Void
    private let readURL: @Sendable (NotifyTarget.SecretLocation) throws -> URL
    /// Secret values the controller holds (a webhook secret, tokens): replaced in every event before it is queued.
    private let secrets: [String]
    private let state = Mutex(State())

    private struct State {
        var queues: [NotifyTarget: DeliveryQueue<NotificationEvent>] = [:]
        /// The last once-key sent for each environment: an event that repeats on every poll is sent once.
        var sent: [String: String] = [:]
        var pending: Int { queues.values.reduce(0) { $0 + $1.count } }
    }

    public init(logger: Logger, metrics: ControllerMetrics = ControllerMetrics(), retry: RetryPolicy = RetryPolicy(),
                capacity: Int = 100, post: @escaping Post = HTTPPoster.post,
                sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
                readURL: @escaping @Sendable (NotifyTarget.SecretLocation) throws -> URL = { try NotificationURL.read($0) },
                secrets: [String] = []) {
        self.secrets = secrets
        self.logger = logger
        self.metrics = metrics
        self.retry = retry
        self.capacity = capacity
        self.post = post
        self.sleep = sleep
        self.readURL = readURL
    }

    /// Queues `event` for each target that receives its kind, and returns at once.
    ///
    /// - Parameter once: when given, the event is sent only when the environment's last once-key differs (a commit
    ///   that keeps waiting for its window is announced once, not on every poll).
    public func send(_ event: NotificationEvent, to targets: [NotifyTarget], once: String? = nil) {
        let event = event.redacting(secrets)
        let receiving = targets.filter { $0.receives(event.event) }
        var started: [NotifyTarget] = []
        var dropped: [(NotifyTarget, NotificationEvent)] = []
        state.withLock { state in
            if let once {
                guard state.sent[event.environment] != once else { return }
                state.sent[event.environment] = once
            } else {
                state.sent[event.environment] = nil
            }
            for target in receiving {
                if state.queues[target] == nil {
                    state.queues[target] = DeliveryQueue(capacity: capacity)
                    started.append(target)
                }
                if let old = state.queues[target]?.push(event) { dropped.append((target, old)) }
            }
        }
        for (target, old) in dropped {
            metrics.notification(result: .dropped, format: target.format)
            logger.log(.notificationDropped, .warning, "notification dropped: the queue is full", metadata(old, target))
        }
        for target in started {
            Task { await self.drain(target) }
        }
    }

    /// Waits until every queue is empty or `timeout` passed; answers whether all was delivered (or given up on).
    public func settle(timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.queues.isEmpty }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return state.withLock { $0.queues.isEmpty }
    }

    /// Events queued and not yet delivered or given up on.
    public var pending: Int {
        state.withLock { $0.pending }
    }

    /// The one task delivering `target`'s queue: it ends, and removes the queue, when the queue is empty.
    private func drain(_ target: NotifyTarget) async {
        while let event = next(for: target) {
            await deliver(event, to: target)
        }
    }

    private func next(for target: NotifyTarget) -> NotificationEvent? {
        state.withLock { state in
            if let event = state.queues[target]?.pop() { return event }
            state.queues[target] = nil
            return nil
        }
    }

    private func deliver(_ event: NotificationEvent, to target: NotifyTarget) async {
        var metadata = metadata(event, target)
        let url: URL
        do {
            url = try readURL(target.url)
        } catch {
            metadata["error"] = "\(error)"
            logger.log(.notificationFailed, .error, "notification not sent", metadata)
            metrics.notification(result: .failed, format: target.format)
            return
        }
        metadata["receiver"] = "\(NotificationURL.origin(of: url))"
        let body = event.body(for: target.format)
        var attempt = 1
        while true {
            let verdict: RetryPolicy.Verdict
            do {
                verdict = RetryPolicy.verdict(status: try await post(url, body))
            } catch {
                verdict = .retry(HTTPPoster.reason(error))
            }
            metadata["attempt"] = "\(attempt)"
            switch verdict {
            case .delivered:
                metrics.notification(result: .delivered, format: target.format)
                logger.debug("notification delivered", metadata: metadata)
                return
            case let .failed(reason):
                metadata["error"] = "\(reason)"
                metrics.notification(result: .failed, format: target.format)
                logger.log(.notificationRefused, .error, "notification refused by its receiver: not retried", metadata)
                return
            case let .retry(reason):
                metadata["error"] = "\(reason)"
                guard let delay = retry.delay(after: attempt) else {
                    metrics.notification(result: .failed, format: target.format)
                    logger.log(.notificationFailed, .error, "notification not delivered: giving up", metadata)
                    return
                }
                metrics.notification(result: .retried, format: target.format)
                metadata["retry"] = "\(delay)"
                logger.log(.notificationRetrying, .warning, "notification not delivered: retrying", metadata)
                await sleep(delay)
                attempt += 1
            }
        }
    }

    private func metadata(_ event: NotificationEvent, _ target: NotifyTarget) -> Logger.Metadata {
        ["target": "\(target)", "notification": "\(event.event.rawValue)", "env": "\(event.environment)",
         "commit": "\(event.commit.prefix(7))"]
    }
}
