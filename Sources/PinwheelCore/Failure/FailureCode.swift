/// Why a host failed, as a code: what the status file (`reason.code`), the JSON API, `apply --json`, notifications
/// and tests read instead of the message's wording.
///
/// The agent's step codes (its `STEP_CODES`) and reply codes (its `REPLY_CODES`) are mirrored here one to one, and a
/// contract test holds the two sides together; the transport's codes say why no answer came. A code the host sends
/// that this build does not know is kept as ``unknown(_:)``, bounded and escaped, never trusted and never a crash.
public enum FailureCode: Sendable, Hashable, CustomStringConvertible {
    // The agent's step codes (`code` of a step result).
    /// Creating the virtualenv or installing the pins failed.
    case install
    /// A program's `envFile` does not exist on the host.
    case envFile
    /// `pinwheel exec`: the command could not be started.
    case exec
    /// supervisord could not load the new program config.
    case supervisor
    /// The slot did not pass its health check within the retries.
    case health
    /// The slot is not built as the request specifies.
    case notPrepared
    /// verify: the slot is prepared, but a process is not running or a web process does not answer.
    case notReady
    /// verify: the slot never served traffic on the host (switching to it is a first exposure).
    case notServed
    /// `nginx.test` rejected the new upstream file.
    case nginxTest
    /// `nginx.reload` failed.
    case nginxReload
    /// nginx did not answer from the new slot after the reload.
    case nginxVerify
    /// A release hook exited non-zero or ran past its timeout.
    case hook
    /// The host's disk is full: an install or a write found no space.
    case diskFull
    /// An unexpected exception inside the agent.
    case `internal`

    // The agent's reply codes (`code` of the reply), besides `stepFailed` (the step's own code says why).
    /// Another Pinwheel run held the host's lock too long.
    case locked
    /// The agent read the request as malformed.
    case badRequest
    /// The agent speaks another protocol (a stale agent on the host).
    case protocolMismatch
    /// The deploy root (or a folder of it) is a link, another user's, or writable by others: the agent did nothing.
    case unsafeRoot
    /// The request's lease epoch is below the highest the host has seen: another controller owns the environment now.
    case fenced

    // Why no answer came (the transport's side).
    /// The host did not answer: down, refused, no route.
    case unreachable
    /// The host's key is not the one in the known-hosts file: never connected to.
    case hostKeyMismatch
    /// The host refused the key.
    case authentication
    /// The round trip did not finish in time; the host may still be working.
    case timeout
    /// The agent did not run, or its answer is not protocol 2 JSON.
    case badReply
    /// The config names a key or known-hosts file outside the folders the operator allows.
    case untrustedLocalFile
    /// The config has a host with `address: local` and the operator did not pass `--allow-local-hosts`: nothing ran.
    case localHostRefused
    /// The controller's own SSH runtime folder (control sockets, known-hosts files) is a link, another user's, or
    /// writable by others: nothing was connected to.
    case unsafeRuntimeFolder

    /// A code this build does not know, as the host sent it (bounded and escaped).
    case unknown(String)

    /// The agent's step codes, in the agent's `STEP_CODES` order.
    public static let agentStepCodes: [FailureCode] = [
        .install, .envFile, .exec, .supervisor, .health, .notPrepared, .notReady, .notServed, .nginxTest, .nginxReload,
        .nginxVerify, .hook, .diskFull, .internal,
    ]

    /// The agent's reply codes, in the agent's `REPLY_CODES` order; `stepFailed` is not a failure of its own (the
    /// failed step's code is).
    public static let agentReplyCodes: [String] = ["protocol", "badRequest", "locked", "unsafeRoot", "fenced", "stepFailed", "internal"]

    /// Every code this build knows.
    public static let known: [FailureCode] = agentStepCodes + [
        .locked, .badRequest, .protocolMismatch, .unsafeRoot, .fenced, .unreachable, .hostKeyMismatch, .authentication, .timeout, .badReply,
        .untrustedLocalFile, .localHostRefused, .unsafeRuntimeFolder,
    ]

    /// The longest unknown code kept, in characters.
    public static let unknownLimit = 40

    /// The code's name, as written in status files and JSON.
    public var rawValue: String {
        switch self {
        case .install: "install"
        case .envFile: "envFile"
        case .exec: "exec"
        case .supervisor: "supervisor"
        case .health: "health"
        case .notPrepared: "notPrepared"
        case .notReady: "notReady"
        case .notServed: "notServed"
        case .nginxTest: "nginxTest"
        case .nginxReload: "nginxReload"
        case .nginxVerify: "nginxVerify"
        case .hook: "hook"
        case .diskFull: "diskFull"
        case .internal: "internal"
        case .locked: "locked"
        case .badRequest: "badRequest"
        case .protocolMismatch: "protocol"
        case .unsafeRoot: "unsafeRoot"
        case .fenced: "fenced"
        case .unreachable: "unreachable"
        case .hostKeyMismatch: "hostKeyMismatch"
        case .authentication: "authentication"
        case .timeout: "timeout"
        case .badReply: "badReply"
        case .untrustedLocalFile: "untrustedLocalFile"
        case .localHostRefused: "localHostRefused"
        case .unsafeRuntimeFolder: "unsafeRuntimeFolder"
        case let .unknown(raw): raw
        }
    }

    private static let byName: [String: FailureCode] = Dictionary(uniqueKeysWithValues: known.map { ($0.rawValue, $0) })

    /// The code named `raw` (from a host, a status file): a known code, or ``unknown(_:)`` with `raw` bounded and
    /// its control characters escaped.
    public init(_ raw: String) {
        self = Self.byName[raw] ?? .unknown(HostText.bounded(raw, limit: Self.unknownLimit))
    }

    /// Whether the host never answered (or could not be asked): it is unreachable rather than failed.
    public var isUnanswered: Bool {
        switch self {
        case .unreachable, .hostKeyMismatch, .authentication, .timeout, .untrustedLocalFile, .localHostRefused, .unsafeRuntimeFolder: true
        default: false
        }
    }

    public var description: String { rawValue }
}

extension FailureCode: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
