/// The resident agent sessions of one controller: at most one per host (by its SSH trust and interpreter), each
/// handed to one request at a time, closed after ``idleTimeout`` without a request, and never more than ``capacity``
/// at once (the least recently used one idle for at least ``evictionAge`` makes room; with none, a request takes the
/// one-shot path, so a fleet larger than the cap keeps the sessions it has and sends the other hosts' requests one
/// shot each, instead of starting and ending a session for every round trip of every sweep). A
/// request that finds its host's session busy (two environments on one host) takes the one-shot path too, so
/// nothing ever waits for another environment's long step. ``closeAll()`` ends every session when the controller
/// stops: no ssh client or host agent is left behind.
public actor ResidentSessions {
    /// The default cap: `--max-connections`' default, so the sessions kept open never outnumber the round trips the
    /// controller may run at once.
    public static let defaultCapacity = 128
    public static let defaultIdleTimeout = Duration.seconds(300)
    /// Longer than a reconcile's sweep over the hosts takes: a session its sweep used is not evicted by the same sweep.
    public static let defaultEvictionAge = Duration.seconds(60)

    public nonisolated let capacity: Int
    public nonisolated let idleTimeout: Duration
    public nonisolated let evictionAge: Duration

    private struct Entry {
        var session: ResidentSession
        var busy: Bool
        var lastUsed: ContinuousClock.Instant
    }

    private var entries: [String: Entry] = [:]
    private var closed = false
    private var reaper: Task<Void, Never>?
    /// Sessions started so far, for tests and the benchmark.
    public private(set) var started = 0

    public init(capacity: Int = ResidentSessions.defaultCapacity, idleTimeout: Duration = ResidentSessions.defaultIdleTimeout,
                evictionAge: Duration = ResidentSessions.defaultEvictionAge) {
        self.capacity = max(1, capacity)
        self.idleTimeout = idleTimeout
        self.evictionAge = evictionAge
    }

    /// Sessions open now.
    public var count: Int { entries.count }

    /// The ssh client processes of the open sessions (for tests).
    public var processIDs: [Int32] { entries.values.compactMap { $0.session.processID } }

    /// The session for `key`, now this caller's, and whether it was just started; nil when the request should take
    /// the one-shot path (the session is busy, no session at the cap has been idle for ``evictionAge``, or the
    /// sessions are closed).
    func checkout(_ key: String, start: @Sendable () -> ResidentSession) -> (session: ResidentSession, fresh: Bool)? {
        guard !closed else { return nil }
        startReaper()
        let now = ContinuousClock.now
        if let entry = entries[key] {
            if entry.busy { return nil }
            if entry.session.isAlive {
                entries[key]?.busy = true
                entries[key]?.lastUsed = now
                return (entry.session, false)
            }
            entries[key] = nil
            retire(entry.session)
        }
        if entries.count >= capacity {
            let evictable = entries.filter { !$0.value.busy && now - $0.value.lastUsed >= evictionAge }
            guard let oldest = evictable.min(by: { $0.value.lastUsed < $1.value.lastUsed }) else {
                return nil
            }
            entries[oldest.key] = nil
            retire(oldest.value.session)
        }
        let session = start()
        started += 1
        entries[key] = Entry(session: session, busy: true, lastUsed: now)
        return (session, true)
    }

    /// Gives the session back after a request; one that ended is forgotten.
    func checkin(_ key: String, _ session: ResidentSession) {
        guard let entry = entries[key], entry.session === session else {
            if closed || !session.isAlive { retire(session) }
            return
        }
        if session.isAlive && !closed {
            entries[key]?.busy = false
            entries[key]?.lastUsed = .now
        } else {
            entries[key] = nil
            retire(session)
        }
    }

    /// Ends every session and waits until their processes have ended; later requests take the one-shot path.
    public func closeAll() async {
        closed = true
        reaper?.cancel()
        reaper = nil
        let sessions = entries.values.map(\.session)
        entries = [:]
        await withTaskGroup(of: Void.self) { group in
            for session in sessions {
                group.addTask { await session.close() }
            }
        }
    }

    /// Ends the sessions idle for longer than ``idleTimeout``.
    func closeIdle(now: ContinuousClock.Instant = .now) {
        for (key, entry) in entries where !entry.busy && (now - entry.lastUsed >= idleTimeout || !entry.session.isAlive) {
            entries[key] = nil
            retire(entry.session)
        }
    }

    private func retire(_ session: ResidentSession) {
        Task { await session.close() }
    }

    private func startReaper() {
        guard reaper == nil else { return }
        let period = min(max(idleTimeout / 4, .milliseconds(100)), .seconds(30))
        reaper = Task { [weak self] in
            while (try? await Task.sleep(for: period)) != nil {
                guard let self else { return }
                await self.closeIdle()
            }
        }
    }
}
