/// How a notification is retried: a few attempts with exponential backoff, for answers that may succeed later.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included.
    public var attempts: Int
    /// The wait before the second attempt; each later wait doubles, up to `maximum`.
    public var initial: Duration
    public var maximum: Duration

    public init(attempts: Int = 5, initial: Duration = .seconds(1), maximum: Duration = .seconds(30)) {
        self.attempts = max(1, attempts)
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait after attempt `attempt` (1 for the first) failed, or nil when that was the last.
    public func delay(after attempt: Int) -> Duration? {
        guard attempt < attempts else { return nil }
        var delay = initial
        for _ in 1..<max(1, attempt) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    /// What an HTTP status means for the delivery: 2xx delivered; 408, 429 and 5xx may succeed later; any other
    /// answer (a wrong URL, a payload the receiver rejects) will not, so it is not retried.
    public static func verdict(status: Int) -> Verdict {
        switch status {
        case 200..<300: return .delivered
        case 408, 429, 500..<600: return .retry("HTTP \(status)")
        default: return .failed("HTTP \(status)")
        }
    }

    public enum Verdict: Sendable, Hashable {
        case delivered
        case retry(String)
        case failed(String)
    }
}
