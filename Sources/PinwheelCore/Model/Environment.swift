/// The desired state of one environment, as read and validated from `Environments/<name>/`.
///
/// This is what the planner compares with what hosts have; it holds no I/O handles and is cheap to compare,
/// so "did the desired state change?" is an equality check.
public struct Environment: Sendable, Hashable, Codable {
    public var name: String
    /// Names supervisord programs, the nginx upstream and host folders.
    public var app: String
    /// The interpreter on the hosts that virtualenvs are made from.
    public var python: String
    public var source: PackageSource
    /// The slot nginx sends traffic to.
    public var active: Slot
    public var slots: PerSlot<SlotPins>
    /// Sorted by name.
    public var programs: [Program]
    public var policy: Policy
    /// In file order.
    public var hosts: [FleetHost]
    /// Commands run by a release: in each new build, before the first switch, after the last.
    public var hooks: ReleaseHooks

    public init(name: String, app: String, python: String, source: PackageSource, active: Slot,
                slots: PerSlot<SlotPins>, programs: [Program], policy: Policy, hosts: [FleetHost],
                hooks: ReleaseHooks = ReleaseHooks()) {
        self.name = name
        self.app = app
        self.python = python
        self.source = source
        self.active = active
        self.slots = slots
        self.programs = programs
        self.policy = policy
        self.hosts = hosts
        self.hooks = hooks
    }

    public var idle: Slot { active.other }

    /// The interpreter `slot` is built from: its own, or the environment's.
    public func python(of slot: Slot) -> String {
        slots[slot].python ?? python
    }

    public func host(named name: String) -> FleetHost? {
        hosts.first { $0.name == name }
    }

    public func program(named name: String) -> Program? {
        programs.first { $0.name == name }
    }

    /// The supervisord program name of `program` in `slot`, e.g. `hello-web-A`.
    public func supervisorName(of program: Program, in slot: Slot) -> String {
        "\(app)-\(program.name)-\(slot.rawValue)"
    }
}
