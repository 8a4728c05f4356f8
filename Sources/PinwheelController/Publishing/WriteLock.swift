/// Commits to the config repository (statuses, reverts) are made one at a time: each environment's task waits here
/// for the others'.
actor WriteLock {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        while held {
            await withCheckedContinuation { waiters.append($0) }
        }
        held = true
    }

    func release() {
        held = false
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }
}
