import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a local program with input on stdin, collecting its output, killed when the deadline passes.
enum CommandRunner {
    static let outputLimit = 32 << 20

    static func run(_ path: String, _ arguments: [String], input: String, timeout: Duration,
                    environment: [String: String] = [:]) async throws -> CommandOutput {
        try await withThrowingTaskGroup(of: CommandOutput?.self) { group in
            group.addTask {
                var options = PlatformOptions()
                // On a deadline: SIGTERM, then SIGKILL if it lingers.
                options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
                let variables = Dictionary(uniqueKeysWithValues: environment.map { (Subprocess.Environment.Key(rawValue: $0.key)!, Optional($0.value)) })
                let result = try await Subprocess.run(
                    .path(FilePath(path)),
                    arguments: Arguments(arguments),
                    environment: .inherit.updating(variables),
                    platformOptions: options,
                    input: .string(input),
                    output: .string(limit: outputLimit),
                    error: .string(limit: outputLimit)
                )
                let status: Int32
                switch result.terminationStatus {
                case let .exited(code): status = code
                case let .signaled(signal): status = 128 + signal
                }
                return CommandOutput(status: status, standardOutput: result.standardOutput,
                                     standardError: result.standardError)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let output = first else {
                throw FleetError(.timeout, "no answer within \(timeout)")
            }
            return output
        }
    }
}
