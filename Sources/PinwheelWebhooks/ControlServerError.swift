/// Why the control server could not serve.
public enum ControlServerError: Error, Equatable, CustomStringConvertible {
    /// Binding or starting failed (address in use, not an address of this machine, ...).
    case cannotListen(address: String, reason: String)
    /// The server stopped, or never started, so it has no port to tell.
    case notListening

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason):
            "control server cannot listen on \(address): \(reason); pick a free port, or an address of this machine"
        case .notListening:
            "control server is not listening (it stopped, or failed to start: see its error)"
        }
    }
}
