/// One datagram of systemd's notify protocol (`sd_notify(3)`): newline-separated `KEY=value` assignments.
///
/// Built here rather than by libsystemd so the binary links nothing more than it already does; the protocol is a
/// few lines of text, and this type is all of its formatting, kept pure so it is tested without a socket.
public struct NotifyMessage: Sendable, Equatable {
    /// The assignments in the order they are sent.
    public private(set) var assignments: [(key: String, value: String)]

    public init(_ assignments: [(key: String, value: String)]) {
        self.assignments = assignments
    }

    /// The service is up: systemd starts what waits for it and ends `systemctl start`.
    public static func ready(status: String) -> NotifyMessage {
        NotifyMessage([("READY", "1"), ("STATUS", Self.statusLine(status))])
    }

    /// The loop made progress: systemd's watchdog timer starts over.
    public static func watchdog(status: String) -> NotifyMessage {
        NotifyMessage([("WATCHDOG", "1"), ("STATUS", Self.statusLine(status))])
    }

    /// Only the status line (`systemctl status` shows it), for when no watchdog is configured.
    public static func status(_ status: String) -> NotifyMessage {
        NotifyMessage([("STATUS", Self.statusLine(status))])
    }

    /// The service began its graceful shutdown: systemd shows it as deactivating rather than failed.
    public static func stopping(status: String) -> NotifyMessage {
        NotifyMessage([("STOPPING", "1"), ("STATUS", Self.statusLine(status))])
    }

    /// What goes on the socket.
    public var text: String {
        assignments.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
    }

    /// The longest status line sent: `systemctl status` shows one line, and a datagram has to stay small.
    public static let statusLimit = 200

    /// `STATUS=` is one line: a newline would start a new assignment, so line breaks and other control characters
    /// become spaces, and an over-long status is cut with an ellipsis.
    public static func statusLine(_ text: String) -> String {
        let flat = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        guard flat.count > statusLimit else { return flat }
        return String(flat.prefix(statusLimit - 1)) + "…"
    }

    public static func == (lhs: NotifyMessage, rhs: NotifyMessage) -> Bool {
        lhs.text == rhs.text
    }
}
