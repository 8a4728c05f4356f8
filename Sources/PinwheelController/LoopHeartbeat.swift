/// Hears from the controller's loop each time it makes progress, so a supervisor can tell a loop that works from
/// one that is stuck (`watch` passes the beats on to systemd's watchdog).
///
/// The beats come from the loop itself, never from a timer beside it: a poll that hangs (a remote that never
/// answers, a lock never released) stops them, which is what a watchdog is for.
public struct LoopHeartbeat: Sendable {
    public enum Beat: Sendable {
        /// A poll finished (successfully or not), with a one-line summary of the controller's state.
        case polled(summary: String)
        /// The loop is waiting for its next poll, as it should.
        case waiting(summary: String)
        /// The loop finished one step of a longer piece of work (the drift check of one environment).
        case progressed(summary: String)
        /// A graceful shutdown began.
        case stopping(summary: String)
    }

    /// The longest wait between two beats while the loop waits for its next poll: waits are cut into pieces no
    /// longer than this.
    public var interval: Duration
    public var beat: @Sendable (Beat) -> Void

    public init(interval: Duration, beat: @escaping @Sendable (Beat) -> Void) {
        self.interval = interval
        self.beat = beat
    }
}
