import Foundation
import PinwheelWebhooks

/// A secret an option names — an environment variable of this process or a file on this machine — and never its
/// value, which `ps` would show every user. The option groups that take one (`watch`'s webhook secret and access
/// token, the Prometheus token, the coordination password) keep their two options and build this from them, so each
/// refuses both at once, reads and trims the same way, and says what is wrong in the same words: the option and the
/// variable or path, never the secret.
struct SecretSource: Equatable, CustomStringConvertible {
    /// What the secret is, for messages: "the webhook secret".
    var name: String
    /// Where it is read.
    var place: WebhookSecret
    /// The option that named the place, for messages: "--webhook-secret-file".
    var option: String

    /// The secret a pair of options names; nil when neither is given, a usage error when both are.
    static func from(_ name: String, environment: (option: String, value: String?), file: (option: String, value: String?))
        throws(ExitError) -> SecretSource? {
        switch (environment.value, file.value) {
        case (nil, nil):
            return nil
        case let (variable?, nil):
            return SecretSource(name: name, place: .environment(variable), option: environment.option)
        case let (nil, path?):
            return SecretSource(name: name, place: .file(path), option: file.option)
        case (_?, _?):
            throw .usage("give \(name) once: \(environment.option) or \(file.option)")
        }
    }

    /// Reads the secret now (one trailing newline trimmed), so a missing one stops the command before it starts.
    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExitError) -> SecretBytes {
        do throws(WebhookSecretError) {
            return try place.load(environment: environment)
        } catch {
            throw .usage(message(for: error))
        }
    }

    /// The secret as text, or nil when the variable is not set or empty: for a secret that may be absent (a database
    /// that trusts the connection needs no password). A file named is still required.
    func loadIfSet(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ExitError) -> String? {
        if case .environment(let variable) = place, environment[variable, default: ""].isEmpty { return nil }
        return try load(environment: environment).textForRedaction
    }

    /// What went wrong and what to do, naming the option and the place, never the secret.
    func message(for error: WebhookSecretError) -> String {
        switch error {
        case .environmentVariableMissing(let variable):
            "\(option) \(variable): the environment variable is not set; export it in pinwheel's environment (for example "
                + "from a systemd EnvironmentFile) holding \(name), or name a file instead"
        case .environmentVariableEmpty(let variable):
            "\(option) \(variable): the environment variable is empty; set it to \(name)"
        case .fileMissing(let path):
            "\(option) \(path): no such file; create it (mode 0600) holding \(name)"
        case .fileUnreadable(let path):
            "\(option) \(path): cannot be read; it must be a regular file that pinwheel's user can read"
        case .fileEmpty(let path):
            "\(option) \(path): the file is empty; write \(name) into it"
        }
    }

    /// Where the secret is, for logs: the option and the variable's name or the file's path, never the secret.
    var description: String { "\(name) (\(option) \(place))" }
}
