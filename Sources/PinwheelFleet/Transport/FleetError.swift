/// Why a host could not be reached or did not do what it was asked.
public struct FleetError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String {
            case unreachable, hostKey, authentication, timeout, agent, stepFailed, locked, untrustedLocalFile
        }

        fileprivate let value: Value

        /// The host did not answer (down, refused, no route).
        public static let unreachable = Code(value: .unreachable)
        /// The host's key is not the one in the known-hosts file: never connected to.
        public static let hostKey = Code(value: .hostKey)
        /// The host refused the key.
        public static let authentication = Code(value: .authentication)
        /// The phase did not finish in time; the host may still be working.
        public static let timeout = Code(value: .timeout)
        /// The agent did not run or did not answer in its protocol.
        public static let agent = Code(value: .agent)
        /// A step failed on the host; the host keeps serving what it served.
        public static let stepFailed = Code(value: .stepFailed)
        /// Another Pinwheel run held the host's lock for too long.
        public static let locked = Code(value: .locked)
        /// The config names a private key or known-hosts file on the controller outside the folders its operator
        /// allows, or a host with `address: local` the operator did not allow: nothing was connected to or run.
        public static let untrustedLocalFile = Code(value: .untrustedLocalFile)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
