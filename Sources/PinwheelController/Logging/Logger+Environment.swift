import Logging

extension Logger {
    /// A copy with more metadata, for one environment's events.
    func with(_ metadata: Logger.Metadata) -> Logger {
        var copy = self
        for (key, value) in metadata { copy[metadataKey: key] = value }
        return copy
    }
}
