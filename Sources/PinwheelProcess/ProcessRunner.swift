import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs local programs (ssh, ssh-keygen, gpgv, a local host's Python) with input on stdin: collecting their output,
/// killed when the deadline passes, or line by line. A module of its own so that what only runs a program (the
/// git-side library's signature checks) does not link the fleet's transports.
public enum ProcessRunner {
    static let outputLimit = 32 << 20

    public static func run(_ path: String, _ arguments: [String], input: String, timeout: Duration,
                    environment: [String: String] = [:]) async throws -> ProcessOutput {
        try await run(path, arguments, input: ProcessInput(input), timeout: timeout, environment: environment)
    }

    public static func run(_ path: String, _ arguments: [String], input: ProcessInput, timeout: Duration,
                    environment: [String: String] = [:]) async throws -> ProcessOutput {
        try await withThrowingTaskGroup(of: ProcessOutput?.self) { group in
            group.addTask {
                var options = PlatformOptions()
                // On a deadline: SIGTERM, then SIGKILL if it lingers.
                options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
                // A process group of its own: a Ctrl-C at the terminal reaches `pinwheel apply`, which stops at a safe
                // point, and never cuts a host's round trip (an ssh client) in the middle of a switch.
                options.processGroupID = 0
                let variables = Dictionary(uniqueKeysWithValues: environment.map { (Subprocess.Environment.Key(rawValue: $0.key)!, Optional($0.value)) })
                // Standard input comes from an unlinked temporary file, not a pipe that Subprocess writes: a child
                // that exits before reading (ssh to a host that is down) must not leave a writer behind.
                let stdin = try inputFile(input)
                // Output and errors through pipes of our own, read only when readable (see ``PipeReader``).
                let output = try PipeReader()
                let errors = try PipeReader()
                let result = try await Subprocess.run(
                    .path(FilePath(path)),
                    arguments: Arguments(arguments),
                    environment: .inherit.updating(variables),
                    platformOptions: options,
                    input: .fileDescriptor(stdin, closeAfterSpawningProcess: true),
                    output: .fileDescriptor(output.writeEnd, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(errors.writeEnd, closeAfterSpawningProcess: true)
                ) { _ in
                    async let standardOutput = output.collect(limit: outputLimit)
                    async let standardError = errors.collect(limit: outputLimit)
                    return try await (standardOutput, standardError)
                }
                let status: Int32
                switch result.terminationStatus {
                case let .exited(code): status = code
                case let .signaled(signal): status = 128 + signal
                }
                return ProcessOutput(status: status, standardOutput: result.closureResult.0,
                                     standardError: result.closureResult.1)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let output = first else {
                throw ProcessError(.timeout, "no answer within \(timeout)")
            }
            return output
        }
    }

    /// Runs a local program with input on stdin and hands over each line of its output and errors as it comes;
    /// cancelling the task ends the program. Returns its exit status (128 + the signal when a signal ended it).
    public static func stream(_ path: String, _ arguments: [String], input: ProcessInput,
                              line: @escaping @Sendable (_ text: String, _ isError: Bool) async -> Void) async throws -> Int32 {
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        let stdin = try inputFile(input)
        let result = try await Subprocess.run(
            .path(FilePath(path)),
            arguments: Arguments(arguments),
            platformOptions: options,
            input: .fileDescriptor(stdin, closeAfterSpawningProcess: true),
            output: .sequence,
            error: .sequence
        ) { execution in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let output = execution.standardOutput
                let errors = execution.standardError
                group.addTask {
                    for try await text in output.strings() { await line(text, false) }
                }
                group.addTask {
                    for try await text in errors.strings() { await line(text, true) }
                }
                try await group.waitForAll()
            }
        }
        switch result.terminationStatus {
        case let .exited(code): return code
        case let .signaled(signal): return 128 + signal
        }
    }

    /// Runs a local program on this process's own standard input, output and errors (a terminal); returns its exit
    /// status.
    public static func interactive(_ path: String, _ arguments: [String]) async throws -> Int32 {
        let result = try await Subprocess.run(
            .path(FilePath(path)),
            arguments: Arguments(arguments),
            input: .fileDescriptor(.standardInput, closeAfterSpawningProcess: false),
            output: .fileDescriptor(.standardOutput, closeAfterSpawningProcess: false),
            error: .fileDescriptor(.standardError, closeAfterSpawningProcess: false)
        )
        switch result.terminationStatus {
        case let .exited(code): return code
        case let .signaled(signal): return 128 + signal
        }
    }

    /// A read-only descriptor of a file holding `text`, already unlinked so nothing is left behind.
    public static func inputFile(_ text: String) throws -> FileDescriptor {
        try inputFile(ProcessInput(text))
    }

    /// A read-only descriptor of a file holding `input`'s parts one after another, already unlinked. Each part is
    /// written from its own storage, never copied: a part shared by many runs stays one copy.
    public static func inputFile(_ input: ProcessInput) throws -> FileDescriptor {
        var template = Array((NSTemporaryDirectory() + "/pinwheel-input.XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw ProcessError(.io, "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        let descriptor = FileDescriptor(rawValue: fd)
        do {
            for part in input.parts {
                let written = try part.utf8.withContiguousStorageIfAvailable { try descriptor.writeAll($0) }
                if written == nil { _ = try descriptor.writeAll(Array(part.utf8)) }
            }
            _ = try descriptor.seek(offset: 0, from: .start)
        } catch {
            try? descriptor.close()
            throw ProcessError(.io, "cannot write a temporary file: \(error)")
        }
        return descriptor
    }
}
