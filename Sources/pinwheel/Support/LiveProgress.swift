import Foundation
import PinwheelFleet
import PinwheelEngine
import Synchronization

/// `pinwheel apply` on a terminal: a ``TerminalProgress``'s status line redrawn in place on standard error (ANSI:
/// carriage return and erase line), its permanent lines printed above it, and a redraw every second so the clock
/// moves during a long step. Only used when standard error is a terminal; otherwise apply prints plain lines.
final class LiveProgress: Sendable {
    private struct State {
        var board: TerminalProgress
        var finished = false
    }

    private let state: Mutex<State>
    private let started = ContinuousClock.now
    private let width: Int

    init(environment: String, hosts: Int) {
        state = Mutex(State(board: TerminalProgress(environment: environment, hosts: hosts)))
        width = Terminal.columns(of: STDERR_FILENO) ?? 80
        Task { [weak self] in
            while let self, await self.tick() {}
        }
    }

    /// Whether `apply` draws live progress: standard error is a terminal that understands escape codes.
    static var wanted: Bool {
        isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"].map { $0 != "dumb" } ?? false
    }

    func event(_ event: ReconcileEvent) {
        state.withLock { state in
            guard !state.finished else { return }
            let elapsed = ContinuousClock.now - started
            let lines = state.board.record(event, at: elapsed)
            Self.draw(lines, status: state.board.statusLine(at: elapsed, width: width))
        }
    }

    /// Erases the status line: what follows (the summary) starts on a clean line.
    func finish() {
        state.withLock { state in
            state.finished = true
            Self.write("\r\u{1B}[2K")
        }
    }

    private func tick() async -> Bool {
        try? await Task.sleep(for: .seconds(1))
        return state.withLock { state in
            guard !state.finished else { return false }
            Self.draw([], status: state.board.statusLine(at: ContinuousClock.now - started, width: width))
            return true
        }
    }

    private static func draw(_ lines: [String], status: String) {
        var text = "\r\u{1B}[2K"
        for line in lines { text += line + "\n" }
        write(text + status)
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

enum Terminal {
    /// The terminal's width in columns, when `descriptor` is one.
    static func columns(of descriptor: Int32) -> Int? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}

/// `apply --json`: lines written whole, one at a time, from whichever task reports an event.
final class JSONLines: Sendable {
    private let lock = Mutex(())

    func write(_ line: String) {
        lock.withLock { _ in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}
