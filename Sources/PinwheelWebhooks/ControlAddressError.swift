/// Why a control address was refused; each message says what form is expected.
public enum ControlAddressError: Error, Equatable, CustomStringConvertible {
    /// Not `HOST:PORT` at all.
    case malformed(String)
    /// No `:PORT`.
    case missingPort(String)
    /// The port is not a number in 0...65535.
    case badPort(String)
    /// The host is a name other than `localhost`.
    case notAnIPLiteral(String)

    public var description: String {
        switch self {
        case .malformed(let text):
            "control address '\(text)' is malformed; write HOST:PORT, e.g. 127.0.0.1:9420 or [::1]:9420"
        case .missingPort(let text):
            "control address '\(text)' has no port; write HOST:PORT, e.g. 127.0.0.1:9420"
        case .badPort(let text):
            "control address '\(text)' has a bad port; it must be a number from 0 to 65535"
        case .notAnIPLiteral(let text):
            "control address '\(text)' does not name an IP address; use an IP literal (127.0.0.1, 0.0.0.0, [::1]) or localhost, not a host name"
        }
    }
}
