/// How much of the machine the control server gives to its clients: it listens on the network, so a client that
/// opens connections and never finishes a request must not hold them for ever.
public struct ControlLimits: Sendable, Equatable {
    /// A connection that reads no complete request part for this long is closed. The clock restarts only on a
    /// complete request head (or body part), so this is also the time a client has to send its request's headers:
    /// a client trickling a header byte by byte ("slowloris") is dropped when it runs out.
    public var idleTimeout: Duration
    /// The most connections open at once; more wait in the kernel's backlog, unaccepted, until one closes.
    public var maxConnections: Int

    /// 30 seconds, 128 connections: far more than a few git hosts, a Prometheus scraper and a few browsers need.
    public init(idleTimeout: Duration = .seconds(30), maxConnections: Int = 128) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}
