/// What one host has, as its agent reported it in one round trip.
public struct HostObservation: Sendable, Hashable, Codable {
    /// Each slot's state.
    public var slots: PerSlot<SlotObservation>
    /// The slot the nginx upstream file routes to, nil when Pinwheel has not written it yet.
    public var routed: Slot?
    /// The fingerprint of the slot the upstream file was written for.
    public var routedFingerprint: String?
    /// The host's machine, C library and whether it has uv, for shipping (`source: {ship: …}`); nil from an agent
    /// that does not say.
    public var platform: HostPlatform?

    public init(slots: PerSlot<SlotObservation> = PerSlot(a: SlotObservation(), b: SlotObservation()),
                routed: Slot? = nil, routedFingerprint: String? = nil, platform: HostPlatform? = nil) {
        self.slots = slots
        self.routed = routed
        self.routedFingerprint = routedFingerprint
        self.platform = platform
    }
}

/// One slot on a host.
public struct SlotObservation: Sendable, Hashable, Codable {
    /// The manifest written when the slot was prepared; nil when it never was.
    public var manifest: SlotManifest?
    /// The supervisord state of each process of the slot, by supervisord program name
    /// (`RUNNING`, `STARTING`, `STOPPED`, `FATAL`, `BACKOFF`, ...); empty when supervisord knows none.
    public var processes: [String: [String]]
    /// Whether every web process answered its health check when observed.
    public var healthy: Bool
    /// Why the slot is not healthy, in the host's own words.
    public var problems: [String]

    public init(manifest: SlotManifest? = nil, processes: [String: [String]] = [:], healthy: Bool = false, problems: [String] = []) {
        self.manifest = manifest
        self.processes = processes
        self.healthy = healthy
        self.problems = problems
    }

    /// Whether every process of every program of `spec` is RUNNING.
    public func isRunning(_ spec: SlotSpec) -> Bool {
        spec.programs.allSatisfy { program in
            let states = processes[program.supervisorName] ?? []
            return states.count == max(program.processes, 1) && states.allSatisfy { $0 == "RUNNING" }
        }
    }
}

/// Written on the host next to a prepared slot: what it holds and where it came from.
public struct SlotManifest: Sendable, Hashable, Codable {
    public var fingerprint: String
    /// `name==version` of each pin.
    public var pins: [String]
    /// The config commit the slot was prepared from, when known.
    public var commit: String?
    /// When it was prepared (ISO 8601, the host's clock).
    public var preparedAt: String?
    /// `uv` or `pip`.
    public var installer: String?
    /// When nginx first routed to this build on the host; nil for a build that never served traffic. Only a slot
    /// that served before is switched to without the policy's pacing (a rollback).
    public var servedAt: String?
    /// The SHA-256 of each shipped file the build installed from (`source: {ship: …}`); nil for other sources and
    /// builds made before it was recorded.
    public var artifacts: [String]?

    public init(fingerprint: String, pins: [String], commit: String? = nil, preparedAt: String? = nil, installer: String? = nil,
                servedAt: String? = nil, artifacts: [String]? = nil) {
        self.artifacts = artifacts
        self.fingerprint = fingerprint
        self.pins = pins
        self.commit = commit
        self.preparedAt = preparedAt
        self.installer = installer
        self.servedAt = servedAt
    }
}
