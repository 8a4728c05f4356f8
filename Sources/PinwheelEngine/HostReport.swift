import PinwheelCore
import PinwheelFleet

/// What a reconcile found and did on one host.
public struct HostReport: Sendable {
    public var host: String
    /// What the host had before anything was done.
    public var before: HostObservation?
    public var plan: HostPlan?
    public var phases: [PhaseResult] = []
    /// What the host had at the end, when anything was done.
    public var after: HostObservation?
    /// What the host still needs after the run; empty when it converged.
    public var remaining: HostPlan?
    public var error: HostFailure?
    public var duration: Duration = .zero

    public init(host: String, before: HostObservation? = nil, plan: HostPlan? = nil, error: HostFailure? = nil, duration: Duration) {
        self.host = host
        self.before = before
        self.plan = plan
        self.error = error
        self.duration = duration
    }

    public mutating func record(_ result: PhaseResult) {
        phases.append(result)
        if let observation = result.observation { after = observation }
        if let error = result.error { self.error = error }
        duration += result.duration
    }

    public enum Outcome: String, Sendable, Codable {
        /// Nothing to do: it already matched.
        case converged
        /// Changed, and matches now.
        case changed
        /// A step failed; the host keeps serving what it served.
        case failed
        /// Could not be observed.
        case unreachable
    }

    public var outcome: Outcome {
        if let error {
            return before == nil && phases.isEmpty && (error.code.isUnanswered || error.code == .locked) ? .unreachable : .failed
        }
        if phases.isEmpty { return (plan?.isEmpty ?? false) ? .converged : .failed }
        return (remaining?.isEmpty ?? false) ? .changed : .failed
    }
}
