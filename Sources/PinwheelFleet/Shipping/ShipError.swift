import PinwheelCore

/// Why the controller could not ship a slot's artifacts; each names the file and what to do.
public enum ShipError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A file's bytes do not hash to the lock's SHA-256.
    case hashMismatch(name: String, expected: String, actual: String)
    /// No file the origin offers has any of the pin's hashes.
    case notFound(pin: String, origin: String)
    /// The origin could not be read (the index did not answer, the folder is missing).
    case origin(String)
    /// The cache folder could not be written.
    case cache(String)
    /// The host refused or lost what was sent.
    case host(String)

    public var description: String {
        switch self {
        case let .hashMismatch(name, expected, actual):
            return "\(name): its SHA-256 is \(actual), the lock names \(expected): the file is not the one the lock was made "
                + "with; nothing of it was used (check the index or the wheel folder, or regenerate the lock)"
        case let .notFound(pin, origin):
            return "\(pin): the \(origin) offers no file with a hash the lock names; add the lock's files to it, or "
                + "regenerate the lock against it (`uv pip compile --generate-hashes`)"
        case let .origin(text), let .cache(text), let .host(text):
            return text
        }
    }
}
