/// What `GET /healthz` answers, as JSON. The controller builds it from its own state; the server
/// only encodes it and picks the status code: 200 for "ok" and "degraded" (the controller is up and
/// working, perhaps with failing hosts), 503 for "down" (so a supervisor or load balancer acts).
/// Any other status is also answered 503: a typo in the controller should fail health checks
/// loudly, not pass them. Absent optional fields are left out of the JSON.
public struct HealthReport: Codable, Sendable, Equatable {
    /// "ok", "degraded" or "down".
    public var status: String
    /// When the controller last polled the config repository (ISO 8601), if ever.
    public var lastPoll: String?
    /// The last reconcile error, if any.
    public var lastError: String?
    /// Each environment's state, by name ("converged", "rolling out", "failed", ...).
    public var environments: [String: String]

    public init(status: String, lastPoll: String? = nil, lastError: String? = nil, environments: [String: String] = [:]) {
        self.status = status
        self.lastPoll = lastPoll
        self.lastError = lastError
        self.environments = environments
    }

    /// Whether `/healthz` answers 200: the status is "ok" or "degraded".
    public var isServing: Bool {
        status == "ok" || status == "degraded"
    }
}
