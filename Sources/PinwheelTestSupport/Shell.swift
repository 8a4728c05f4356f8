import Foundation
import PinwheelFleet
import PinwheelProcess
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs the project's scripts and other programs from tests.
public enum Shell {
    public struct Output: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// The package's root folder.
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// Runs `executable` (a path, or a name looked up on PATH) and collects its output.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: String = "",
                           environment: [String: String] = [:]) async throws -> Output {
        let variables = Dictionary(uniqueKeysWithValues: environment.map { (Subprocess.Environment.Key(rawValue: $0.key)!, Optional($0.value)) })
        let result = try await Subprocess.run(
            executable.contains("/") ? .path(FilePath(executable)) : .name(executable),
            arguments: Arguments(arguments),
            environment: .inherit.updating(variables),
            input: .fileDescriptor(try ProcessRunner.inputFile(input), closeAfterSpawningProcess: true),
            output: .string(limit: 16 << 20),
            error: .string(limit: 16 << 20)
        )
        let status: Int32
        switch result.terminationStatus {
        case let .exited(code): status = code
        case let .signaled(signal): status = 128 + signal
        }
        return Output(status: status, standardOutput: result.standardOutput, standardError: result.standardError)
    }

    /// Runs one of the project's scripts (`scripts/NAME`) and throws with its output when it fails.
    @discardableResult
    public static func script(_ name: String, _ arguments: [String]) async throws -> Output {
        let path = packageRoot.appendingPathComponent("scripts/\(name)").path
        let output = try await run(path, arguments)
        guard output.status == 0 else {
            throw ScriptFailed(command: ([name] + arguments).joined(separator: " "), output: output)
        }
        return output
    }

    public struct ScriptFailed: Error, CustomStringConvertible {
        public var command: String
        public var output: Output
        public var description: String {
            "`\(command)` exited \(output.status):\n\(output.standardOutput)\(output.standardError)"
        }
    }

    /// Runs a script synchronously, for teardown in `deinit`.
    public static func scriptNow(_ name: String, _ arguments: [String]) {
        let process = Process()
        process.executableURL = packageRoot.appendingPathComponent("scripts/\(name)")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }
}
