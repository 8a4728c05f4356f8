import PinwheelCore

/// Why a host could not be reached or did not do what it was asked.
public struct FleetError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String {
            case unreachable, hostKey, authentication, timeout, agent, stepFailed, locked, untrustedLocalFile, protocolMismatch
            case localHostRefused, unsafeRuntimeFolder
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
        /// allows: nothing was connected to or run.
        public static let untrustedLocalFile = Code(value: .untrustedLocalFile)
        /// A host with `address: local` the operator did not allow (`--allow-local-hosts`): nothing was run.
        public static let localHostRefused = Code(value: .localHostRefused)
        /// The SSH runtime folder is not this user's private folder: nothing was connected to.
        public static let unsafeRuntimeFolder = Code(value: .unsafeRuntimeFolder)
        /// The agent on the host speaks another protocol than this pinwheel.
        public static let protocolMismatch = Code(value: .protocolMismatch)

        /// The host-failure code this stands for.
        var failureCode: FailureCode {
            switch value {
            case .unreachable: .unreachable
            case .hostKey: .hostKeyMismatch
            case .authentication: .authentication
            case .timeout: .timeout
            case .agent: .badReply
            case .stepFailed: .internal
            case .locked: .locked
            case .untrustedLocalFile: .untrustedLocalFile
            case .localHostRefused: .localHostRefused
            case .unsafeRuntimeFolder: .unsafeRuntimeFolder
            case .protocolMismatch: .protocolMismatch
            }
        }

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    /// What the host printed about it (its error stream), kept apart from the message: bounded, never put in git.
    public var detail: String?
    /// The code the agent answered with, when it answered (`internal`, `badRequest`, …).
    public var reported: FailureCode?

    public init(_ code: Code, _ message: String, detail: String? = nil, reported: FailureCode? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
        self.reported = reported
    }

    public var description: String { message }

    /// The host failure this error is: its code, Pinwheel's message, the host's words as the detail.
    public var failure: HostFailure {
        HostFailure(reported ?? code.failureCode, message: message, detail: detail)
    }
}

extension HostFailure {
    /// The failure any error of a round trip stands for: a ``HostFailure`` as it is, a ``FleetError``'s failure,
    /// anything else an answer that was not the agent's.
    public init(of error: any Error) {
        if let failure = error as? HostFailure {
            self = failure
        } else if let error = error as? FleetError {
            self = error.failure
        } else {
            self.init(.badReply, message: "\(error)")
        }
    }
}
