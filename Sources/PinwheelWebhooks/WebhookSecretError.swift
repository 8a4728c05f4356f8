/// Why a webhook secret could not be loaded. The messages name where the secret was looked for,
/// never what was found there.
public enum WebhookSecretError: Error, Equatable, CustomStringConvertible {
    /// The environment variable is not set.
    case environmentVariableMissing(name: String)
    /// The environment variable is set but empty (or only a newline).
    case environmentVariableEmpty(name: String)
    /// The file does not exist.
    case fileMissing(path: String)
    /// The file exists but could not be read (permissions, a directory, ...).
    case fileUnreadable(path: String)
    /// The file is empty (or only a newline).
    case fileEmpty(path: String)

    public var description: String {
        switch self {
        case .environmentVariableMissing(let name):
            "webhook secret: environment variable \(name) is not set; export it in the controller's environment (for example from a systemd EnvironmentFile), or use a secret file instead"
        case .environmentVariableEmpty(let name):
            "webhook secret: environment variable \(name) is empty; set it to the secret configured on the git host"
        case .fileMissing(let path):
            "webhook secret: file \(path) does not exist; create it (mode 0600) with the secret configured on the git host"
        case .fileUnreadable(let path):
            "webhook secret: file \(path) cannot be read; check that it is a regular file readable by the controller's user"
        case .fileEmpty(let path):
            "webhook secret: file \(path) is empty; write the secret configured on the git host into it"
        }
    }
}
