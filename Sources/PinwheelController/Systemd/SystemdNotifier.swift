#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Tells systemd how the service is doing over `$NOTIFY_SOCKET` (a `Type=notify` unit): one datagram per message,
/// sent from an `AF_UNIX` datagram socket of its own, as `sd_notify(3)` documents the protocol.
///
/// `READY=1` waits for everything the service needs to be useful: the controller's first poll and, when it serves
/// one, the control server's socket. A send that fails is dropped: systemd's side may be gone (a restart of the
/// manager) and the controller must keep reconciling regardless.
public final class SystemdNotifier: Sendable {
    /// What is still missing before `READY=1`, whether it was sent, and when the watchdog last heard.
    private struct Readiness {
        var polled = false
        var listening: Bool
        var sent = false
        var lastAlive: ContinuousClock.Instant?
    }

    public let environment: NotifyEnvironment
    private let descriptor: Int32
    private let readiness: Mutex<Readiness>

    /// Nil when the process does not run under a notify-aware service manager (no usable `$NOTIFY_SOCKET`).
    /// - Parameter waitsForListener: `READY=1` also waits for ``listening()`` (`watch --listen`).
    public init?(environment: [String: String], pid: Int32 = getpid(), waitsForListener: Bool) {
        guard let parsed = NotifyEnvironment(environment, pid: pid) else { return nil }
        #if canImport(Darwin)
        let type = SOCK_DGRAM
        #else
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #endif
        let descriptor = socket(AF_UNIX, type, 0)
        guard descriptor >= 0 else { return nil }
        self.environment = parsed
        self.descriptor = descriptor
        readiness = Mutex(Readiness(listening: !waitsForListener))
    }

    deinit {
        close(descriptor)
    }

    /// The controller finished its first poll (whatever its result: a remote that is down at boot is reported by
    /// the status line and `/healthz`, not by a start that times out).
    public func polled(status: String) {
        readyIfComplete(status: status) { $0.polled = true }
    }

    /// The control server's socket is bound.
    public func listening(status: String) {
        readyIfComplete(status: status) { $0.listening = true }
    }

    /// The loop made progress: a watchdog ping when the unit has a watchdog, the status line in any case.
    ///
    /// A loop that polls more often than the watchdog needs would send a datagram per poll: beats closer than half
    /// the ping interval to the last one sent are dropped. The next beat comes at most a ping interval later, so
    /// systemd still hears within three quarters of `WatchdogSec=`.
    public func alive(status: String, now: ContinuousClock.Instant = .now) {
        let spacing = (environment.watchdogPingInterval ?? .zero) / 2
        let due = readiness.withLock { state -> Bool in
            if let last = state.lastAlive, now - last < spacing { return false }
            state.lastAlive = now
            return true
        }
        guard due else { return }
        send(environment.watchdogPingInterval == nil ? .status(status) : .watchdog(status: status))
    }

    public func stopping(status: String) {
        send(.stopping(status: status))
    }

    /// The controller's beats, passed on: the first poll counts towards `READY=1`, every beat feeds the watchdog
    /// and updates the status line, and a stop says `STOPPING=1`.
    /// - Parameter statusInterval: how often to update the status line when the unit has no watchdog.
    public func heartbeat(statusInterval: Duration = .seconds(30)) -> LoopHeartbeat {
        LoopHeartbeat(interval: environment.watchdogPingInterval ?? statusInterval) { [self] beat in
            switch beat {
            case .polled(let summary):
                polled(status: summary)
                alive(status: summary)
            case .waiting(let summary), .progressed(let summary):
                alive(status: summary)
            case .stopping(let summary):
                stopping(status: summary)
            }
        }
    }

    private func readyIfComplete(status: String, _ change: (inout Readiness) -> Void) {
        let ready = readiness.withLock { state -> Bool in
            change(&state)
            guard state.polled, state.listening, !state.sent else { return false }
            state.sent = true
            return true
        }
        if ready { send(.ready(status: status)) }
    }

    /// Sends one datagram; returns whether the whole message went.
    @discardableResult
    public func send(_ message: NotifyMessage) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name: [UInt8]
        switch environment.address {
        case .path(let path): name = Array(path.utf8)
        // An abstract name starts with a NUL byte where `@` was, and is exactly as long as the address says.
        case .abstract(let abstract): name = [0] + Array(abstract.utf8)
        }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            bytes.copyBytes(from: name)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let payload = Array(message.text.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { bytes in
                    sendto(descriptor, bytes.baseAddress, bytes.count, 0, socketAddress, length)
                }
            }
        }
        return sent == payload.count
    }
}
