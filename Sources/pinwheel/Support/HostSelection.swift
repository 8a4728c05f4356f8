import ArgumentParser
import Foundation
import Synchronization
import PinwheelCore

/// `--host` and `--slot` as `logs` and `exec` take them: the hosts named (all when none), and a slot by name or
/// `active`.
enum HostSelection {
    static func hosts(_ names: [String], of environment: Environment) throws -> [FleetHost] {
        if names.isEmpty { return environment.hosts }
        return try names.map { name in
            guard let host = environment.host(named: name) else {
                throw UsageError("environment \(environment.name) has no host `\(name)`; its hosts: \(environment.hosts.map(\.name).joined(separator: ", "))")
            }
            return host
        }
    }

    static func program(_ name: String, of environment: Environment) throws -> Program {
        guard let program = environment.program(named: name) else {
            throw UsageError("environment \(environment.name) has no program `\(name)`; its programs: \(environment.programs.map(\.name).joined(separator: ", "))")
        }
        return program
    }

    static func slot(_ text: String, of environment: Environment) throws -> Slot {
        if text == "active" { return environment.active }
        if text == "idle" { return environment.idle }
        guard let slot = Slot(rawValue: text) else { throw UsageError("--slot is A, B, active or idle, not `\(text)`") }
        return slot
    }
}

/// Lines from many hosts at once, each whole: concurrent writers never interleave within a line. Each line is a
/// host's text, so its control characters other than tabs are shown, not obeyed (``UntrustedText/terminal(_:)``):
/// a program's output cannot move the cursor, recolor or clear the operator's terminal, nor hide the host prefix.
final class LinePrinter: Sendable {
    private let lock = Mutex<Void>(())

    func out(_ text: String) {
        let line = UntrustedText.terminal(text)
        lock.withLock { _ in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }

    func error(_ text: String) {
        let line = UntrustedText.terminal(text)
        lock.withLock { _ in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}
