/// Whether `condition` holds within `timeout`, looked at every `interval` and once more at the end: for what a test
/// waits on that another process or task brings about, so a loaded machine takes longer instead of failing.
public func eventually(within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(50),
                       _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
