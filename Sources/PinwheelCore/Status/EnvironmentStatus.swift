import Foundation
import Yams

/// What the controller observed and did for one environment, committed to the status branch as
/// `Environments/<name>/status.yaml` so that git says what the fleet runs.
public struct EnvironmentStatus: Sendable, Hashable, Codable {
    /// The status branch the controller writes, never the branch people merge into.
    public static let defaultBranch = "pinwheel/status"

    public enum Result: String, Sendable, Hashable, Codable, CaseIterable {
        /// Every host serves the desired active slot and is healthy.
        case converged
        /// A rollout is under way.
        case progressing
        /// Some hosts failed or were unreachable, within what the policy tolerates.
        case degraded
        /// The rollout stopped: more hosts failed than the policy tolerates.
        case halted
        /// The desired commit's config is not valid: nothing from it was applied.
        case invalid
        /// The policy's deploy windows (or a freeze) hold the desired commit back; it applies when they open.
        case waiting
        /// The desired commit was refused (its history does not descend from the last applied commit): nothing applied.
        case refused
        /// A newer admitted commit stopped the rollout at a safe point (``Supersession`` says what it had done); the
        /// newer commit reconciles next. Never quarantined: it did not fail.
        case superseded
    }

    /// What a rollout a newer commit interrupted had done, written as `superseded:` in a `superseded` status.
    public struct Supersession: Sendable, Hashable, Codable {
        /// The newer commit that stopped it.
        public var by: String
        /// The stage it stopped at (`pause`, `canary`, `batch 2`, …), nil when it stopped before its first action.
        public var stage: String?
        /// The hosts it switched to its desired slot before it stopped, in the environment's order.
        public var switched: [String]
        /// The hosts it never switched (untouched by its switches; the newer commit decides what they get).
        public var untouched: [String]

        public init(by: String, stage: String?, switched: [String], untouched: [String]) {
            self.by = by
            self.stage = stage
            self.switched = switched
            self.untouched = untouched
        }
    }

    public struct HostStatus: Sendable, Hashable, Codable {
        /// The slot nginx routes to on the host, nil when unknown (unreachable, or nothing routed yet).
        public var serving: Slot?
        /// `name==version` of each slot's pins, as its manifest says.
        public var slots: [String: [String]]
        public var healthy: Bool
        /// Why the host failed or could not be observed, one line for people (`check B: health — …`).
        public var error: String?
        /// The same as data: code, step and message; nil in statuses written before it was recorded.
        public var reason: StatusReason?
        /// The SHA-256 of each shipped file each slot installed from (`source: {ship: …}`), by slot; nil when no slot
        /// of the host was shipped (and in statuses written before it was recorded).
        public var artifacts: [String: [String]]?

        public init(serving: Slot?, slots: [String: [String]], healthy: Bool, error: String? = nil, reason: StatusReason? = nil,
                    artifacts: [String: [String]]? = nil) {
            self.artifacts = artifacts
            self.serving = serving
            self.slots = slots
            self.healthy = healthy
            self.error = error
            self.reason = reason
        }
    }

    public var environment: String
    /// The config commit this status is about.
    public var desired: String
    public var result: Result
    public var message: String
    /// When it was observed, ISO 8601.
    public var time: String
    /// The desired active slot.
    public var active: Slot?
    /// The desired active slot's pins.
    public var pins: [String]
    /// The interpreter the desired active slot is built with (its own `python:`, or the environment's), nil in
    /// statuses written before it was recorded.
    public var python: String?
    public var hosts: [String: HostStatus]
    /// The validator's errors, for `invalid`.
    public var errors: [String]
    /// The revert the controller committed for a halted release, when it did.
    public var revert: String?
    /// The config commit the hosts were last reconciled to (the desired one, unless this status is `waiting`,
    /// `refused` or `invalid`).
    public var applied: String?
    /// Commits whose rollout halted: the controller never retries them by itself. Carried forward in later statuses.
    public var quarantined: [String]
    /// Why the status says what it says, written as `reason:`: for a `waiting` or `refused` status the admission
    /// code (an ``AdmissionReason``'s raw value); for a `halted` or `degraded` one the first failed host's failure
    /// (a ``FailureCode``, its step, and the message). What tools and tests read instead of the message.
    public var cause: StatusReason?
    /// The cause's code.
    public var reason: String? {
        get { cause?.code }
        set { cause = newValue.map { StatusReason(code: $0) } }
    }
    /// The override this status records, when a person applied the commit despite admission (`apply --override`).
    public var override: AdmissionOverride?
    /// For a `superseded` status: the newer commit and what the interrupted rollout had done; nil otherwise (and in
    /// statuses written before it existed).
    public var superseded: Supersession?
    /// The bake and metric analysis of each stage (`bake:`, `analysis:` in the policy), in order; nil when the
    /// policy has neither.
    public var analysis: [StageAnalysis]?
    /// The controller replica that recorded it and its lease epoch, when several controllers share the fleet
    /// (`watch --coordination`): the status history shows each takeover. Nil for a controller that runs alone.
    public var owner: LeaseStamp?

    public init(environment: String, desired: String, result: Result, message: String, time: String, active: Slot?,
                pins: [String], hosts: [String: HostStatus], errors: [String] = [], revert: String? = nil,
                applied: String? = nil, quarantined: [String] = [], python: String? = nil, reason: String? = nil,
                override: AdmissionOverride? = nil) {
        self.environment = environment
        self.desired = desired
        self.result = result
        self.message = message
        self.time = time
        self.active = active
        self.pins = pins
        self.hosts = hosts
        self.errors = errors
        self.revert = revert
        self.applied = applied
        self.quarantined = quarantined
        self.python = python
        self.cause = reason.map { StatusReason(code: $0) }
        self.override = override
    }

    private enum CodingKeys: String, CodingKey {
        case environment, desired, result, message, time, active, pins, python, hosts, errors, revert, applied, quarantined, override
        case superseded
        case analysis
        case owner
        case cause = "reason"
    }

    /// Statuses written before `applied`, `quarantined`, `reason` and `override` existed read as having none; a
    /// `reason` written as a bare code (before it was a mapping) reads as a reason with only its code.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        environment = try container.decode(String.self, forKey: .environment)
        desired = try container.decode(String.self, forKey: .desired)
        result = try container.decode(Result.self, forKey: .result)
        message = try container.decode(String.self, forKey: .message)
        time = try container.decode(String.self, forKey: .time)
        active = try container.decodeIfPresent(Slot.self, forKey: .active)
        pins = try container.decodeIfPresent([String].self, forKey: .pins) ?? []
        python = try container.decodeIfPresent(String.self, forKey: .python)
        hosts = try container.decodeIfPresent([String: HostStatus].self, forKey: .hosts) ?? [:]
        errors = try container.decodeIfPresent([String].self, forKey: .errors) ?? []
        revert = try container.decodeIfPresent(String.self, forKey: .revert)
        applied = try container.decodeIfPresent(String.self, forKey: .applied)
        quarantined = try container.decodeIfPresent([String].self, forKey: .quarantined) ?? []
        cause = try container.decodeIfPresent(StatusReason.self, forKey: .cause)
        override = try container.decodeIfPresent(AdmissionOverride.self, forKey: .override)
        superseded = try container.decodeIfPresent(Supersession.self, forKey: .superseded)
        analysis = try container.decodeIfPresent([StageAnalysis].self, forKey: .analysis)
        owner = try container.decodeIfPresent(LeaseStamp.self, forKey: .owner)
    }

    /// The commit the hosts were last reconciled to, also for statuses written before `applied` was recorded.
    public var lastApplied: String? {
        if let applied { return applied }
        switch result {
        case .converged, .progressing, .degraded, .halted, .superseded: return desired
        case .invalid, .waiting, .refused: return nil
        }
    }

    /// The file's path in the status branch.
    public static func path(of environment: String) -> String {
        "Environments/\(environment)/status.yaml"
    }

    /// Whether `other` says the same about the fleet, ignoring when it was observed: no new status commit then.
    public func saysTheSame(as other: EnvironmentStatus) -> Bool {
        var a = self
        var b = other
        a.time = ""
        b.time = ""
        return a == b
    }

    public var healthyHosts: Int {
        hosts.values.filter { $0.healthy && $0.serving == active && $0.error == nil }.count
    }

    /// The commit message's summary line, e.g.
    /// `production: converged at 3f2a1c9 — slot B, hello-service 1.1.0, 20/20 hosts`.
    public var summary: String {
        let short = String(desired.prefix(7))
        var line = "\(environment): \(result.rawValue) at \(short)"
        if result == .invalid {
            return line + " — \(errors.count) error\(errors.count == 1 ? "" : "s"), nothing applied"
        }
        if result == .waiting || result == .refused {
            return line + " — " + (message.count > 120 ? String(message.prefix(119)) + "…" : message)
        }
        if let active {
            line += " — slot \(active)"
        }
        let versions = pins.map { $0.replacingOccurrences(of: "==", with: " ") }
        if !versions.isEmpty {
            line += ", " + (versions.count > 3 ? versions.prefix(3).joined(separator: ", ") + ", …" : versions.joined(separator: ", "))
        }
        line += ", \(healthyHosts)/\(hosts.count) hosts"
        return line
    }

    /// The full commit message: summary, the message, and trailers that `history` reads back.
    public var commitMessage: String {
        var text = summary + "\n\n" + message + "\n"
        if !errors.isEmpty {
            text += "\n" + errors.prefix(20).joined(separator: "\n") + "\n"
        }
        text += "\nPinwheel-Environment: \(environment)\nPinwheel-Desired: \(desired)\nPinwheel-Result: \(result.rawValue)\n"
        if let revert {
            text += "Pinwheel-Revert: \(revert)\n"
        }
        if let applied, applied != desired {
            text += "Pinwheel-Applied: \(applied)\n"
        }
        if let reason {
            text += "Pinwheel-Reason: \(reason)\n"
        }
        if let step = cause?.step {
            text += "Pinwheel-Reason-Step: \(step.replacingOccurrences(of: "\n", with: " "))\n"
        }
        if let superseded {
            text += "Pinwheel-Superseded-By: \(superseded.by)\n"
            if !superseded.switched.isEmpty { text += "Pinwheel-Switched: \(superseded.switched.joined(separator: ", "))\n" }
        }
        if let override {
            text += "Pinwheel-Override: \(override.reason.replacingOccurrences(of: "\n", with: " "))\n"
            text += "Pinwheel-Override-By: \(override.by)\n"
            text += "Pinwheel-Overridden: \(override.overrode.map(\.rawValue).joined(separator: ", "))\n"
        }
        for stage in (analysis ?? []).prefix(50) {
            text += "Pinwheel-Analysis: \(String(stage.summary.replacingOccurrences(of: "\n", with: " ").prefix(400)))\n"
        }
        if let owner {
            text += "Pinwheel-Replica: \(owner.replica.replacingOccurrences(of: "\n", with: " "))\n"
            text += "Pinwheel-Epoch: \(owner.epoch)\n"
        }
        return text
    }

    public func yaml() throws -> String {
        try YAMLEncoder().encode(self)
    }

    public static func parse(_ text: String) throws -> EnvironmentStatus {
        try YAMLDecoder().decode(EnvironmentStatus.self, from: text)
    }
}
