import Foundation

/// Runs the built `pinwheel` executable, as a user or a CI job would. Shared by every test target that runs the
/// command itself (the CLI's, the analysis', the replicas' and the watch process' suites).
public enum CLIRunner {
    public struct Result: Sendable {
        public var pid: Int32 = 0
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The folder holding the built products (the test bundle sits beside the executable).
    public static let productsDirectory: URL = {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("pinwheel").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return Bundle.main.bundleURL
    }()

    /// The package's root folder: the repository's own Environments/ and Policies/ live there.
    public static var packageRoot: URL { Shell.packageRoot }

    /// The built executable.
    public static var executable: URL { productsDirectory.appendingPathComponent("pinwheel") }

    public static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(pid: process.processIdentifier, status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}
