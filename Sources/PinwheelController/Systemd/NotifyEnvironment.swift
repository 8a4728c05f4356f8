/// What systemd's environment tells a service about the notify protocol: where `$NOTIFY_SOCKET` is and, from
/// `$WATCHDOG_USEC` and `$WATCHDOG_PID`, how often the watchdog wants to hear from this process.
///
/// Pure (it reads the dictionary it is given), so every case of systemd's rules is tested without a service manager.
public struct NotifyEnvironment: Sendable, Equatable {
    /// Where the notify socket is: a path, or a name in Linux's abstract namespace (`@` in `$NOTIFY_SOCKET`).
    public enum Address: Sendable, Equatable {
        case path(String)
        case abstract(String)
    }

    public var address: Address
    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, as `sd_watchdog_enabled(3)` advises; nil when the
    /// unit has no `WatchdogSec=` (or the watchdog is meant for another process).
    public var watchdogPingInterval: Duration?

    /// Nil when `$NOTIFY_SOCKET` is unset or not an address this implementation speaks (only `AF_UNIX`: a path or
    /// an abstract name; systemd's `vsock:` addresses are for virtual machines).
    public init?(_ environment: [String: String], pid: Int32) {
        guard let socket = environment["NOTIFY_SOCKET"], socket.count > 1 else { return nil }
        if socket.hasPrefix("/") {
            address = .path(socket)
        } else if socket.hasPrefix("@") {
            address = .abstract(String(socket.dropFirst()))
        } else {
            return nil
        }
        watchdogPingInterval = Self.watchdogPingInterval(environment, pid: pid)
    }

    /// Half of `$WATCHDOG_USEC` when it is a positive number of microseconds and `$WATCHDOG_PID`, when set, is this
    /// process (a wrapper that forks must not ping for its child).
    public static func watchdogPingInterval(_ environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return .microseconds(Int64(clamping: microseconds / 2))
    }
}
