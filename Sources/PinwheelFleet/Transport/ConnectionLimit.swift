import PinwheelProcess

/// A cap on the round trips one process has open at once, across every environment it reconciles: forty
/// environments rolling out together wait for each other's connections instead of starting thousands of ssh
/// processes. First come, first served.
public actor ConnectionLimit {
    public nonisolated let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// The most that ran at once, for tests and metrics.
    public private(set) var peak = 0

    public init(_ limit: Int) {
        self.limit = max(1, limit)
    }

    /// Waits for a free place and takes it.
    public func acquire() async {
        if running < limit {
            running += 1
            peak = max(peak, running)
            return
        }
        await withCheckedContinuation { waiting.append($0) }
        // The place was handed over by `release`, which did not give it up.
        peak = max(peak, running)
    }

    /// Gives a place back: to the first waiter, or free.
    public func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Runs `body` in a place of its own.
    public nonisolated func withPlace<Result: Sendable>(_ body: @Sendable () async throws -> Result) async rethrows -> Result {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}

/// A transport whose round trips each take a place of a shared ``ConnectionLimit``.
public struct LimitedTransport: Transport {
    public let base: any Transport
    public let limit: ConnectionLimit

    public init(_ base: any Transport, limit: ConnectionLimit) {
        self.base = base
        self.limit = limit
    }

    public func run(python: String, script: ProcessInput, timeout: Duration) async throws -> CommandOutput {
        try await limit.withPlace { try await base.run(python: python, script: script, timeout: timeout) }
    }

    public func stream(python: String, script: ProcessInput, line: @escaping @Sendable (OutputLine) async -> Void) async throws -> Int32 {
        try await limit.withPlace { try await base.stream(python: python, script: script, line: line) }
    }

    public func interactive(python: String, script: ProcessInput) async throws -> Int32 {
        try await limit.withPlace { try await base.interactive(python: python, script: script) }
    }
}
