import CMalloc

/// How the controller's loop waits between polls: the interval, longer while the remote is unreachable, cut short by a
/// wake-up (a webhook, a rollout that ended, a shutdown), with beats for the watchdog while it waits; and, at most once
/// a minute, the free memory handed back to the system.
struct LoopPacing: Sendable {
    let interval: Duration
    let wakeup: Wakeup
    /// Hears from the loop while it waits (systemd's watchdog, through `watch`); nil: nobody listens.
    let heartbeat: LoopHeartbeat?
    private var lastMemoryRelease = ContinuousClock.now

    init(interval: Duration, wakeup: Wakeup, heartbeat: LoopHeartbeat?) {
        self.interval = interval
        self.wakeup = wakeup
        self.heartbeat = heartbeat
    }

    /// The wait after a poll: the interval, and while the remote is unreachable 2, 4, 8 ... intervals, at most a minute.
    func delay(failedPolls: Int) -> Duration {
        let factor = failedPolls == 0 ? 1 : min(1 << min(failedPolls, 6), 12)
        return min(interval * factor, max(interval, .seconds(60)))
    }

    /// Waits for the next poll, or less when woken; with a heartbeat, in pieces no longer than its interval with a
    /// beat after each, so a loop that waits (as it should) keeps the watchdog fed.
    func pause(_ duration: Duration, isStopping: @Sendable () async -> Bool, summary: @Sendable () async -> String) async {
        guard let heartbeat else {
            _ = await wakeup.wait(timeout: duration)
            return
        }
        let end = ContinuousClock.now + duration
        while await !isStopping() {
            let left = end - ContinuousClock.now
            guard left > .zero else { return }
            if await wakeup.wait(timeout: min(left, heartbeat.interval)) { return }
            heartbeat.beat(.waiting(summary: await summary()))
        }
    }

    /// At most once a minute, gives the memory the allocator holds free back to the system. A rollout's peak (agent
    /// replies, plans, status files) is freed when it ends, but glibc keeps the freed pages in its arenas; over months
    /// the resident memory would follow the peaks rather than what the controller uses.
    mutating func releaseFreeMemory() {
        guard ContinuousClock.now - lastMemoryRelease >= .seconds(60) else { return }
        lastMemoryRelease = ContinuousClock.now
        pw_heap_release_free_memory()
    }
}
