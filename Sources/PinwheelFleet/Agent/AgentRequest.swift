import Foundation
import PinwheelCore

/// What the host agent is asked to do, with everything it needs to know about the environment on that host.
struct AgentRequest: Encodable, Sendable {
    enum Action: String, Encodable, Sendable {
        case observe
        case execute
    }

    struct Step: Codable, Sendable, Hashable {
        var action: String
        var slot: Slot

        init(_ step: HostPlan.Step) {
            switch step {
            case let .prepare(slot): self = Step(action: "prepare", slot: slot)
            case let .start(slot): self = Step(action: "start", slot: slot)
            case let .check(slot): self = Step(action: "check", slot: slot)
            case let .route(slot): self = Step(action: "route", slot: slot)
            case let .verify(slot): self = Step(action: "verify", slot: slot)
            }
        }

        init(action: String, slot: Slot) {
            self.action = action
            self.slot = slot
        }

        var planStep: HostPlan.Step? {
            switch action {
            case "prepare": return .prepare(slot)
            case "start": return .start(slot)
            case "check": return .check(slot)
            case "route": return .route(slot)
            case "verify": return .verify(slot)
            default: return nil
            }
        }
    }

    struct Health: Encodable, Sendable {
        var retries: Int
        var intervalMilliseconds: Int64
    }

    struct SlotRequest: Encodable, Sendable {
        struct Program: Encodable, Sendable {
            struct Check: Encodable, Sendable {
                var path: String
                var status: Int
                var timeoutMilliseconds: Int64
            }

            var name: String
            var supervisorName: String
            var command: String
            var processes: Int
            var ports: [Int]
            var health: Check?
        }

        var fingerprint: String
        var requirements: String
        var hashed: Bool
        var programs: [Program]
    }

    var action: Action
    var steps: [Step]
    var environment: String
    var app: String
    var root: String
    var python: String
    var source: PackageSource
    var supervisor: SupervisorSettings
    var nginx: NginxSettings
    var health: Health
    var commit: String?
    var lockTimeoutSeconds: Int
    var slots: [String: SlotRequest]
    /// With `observe`: switch to this slot at once when the observation shows it ready and not yet routed to.
    var routeIfReady: Slot?

    init(_ action: Action, steps: [HostPlan.Step] = [], environment: Environment, host: FleetHost, commit: String?) {
        self.action = action
        self.steps = steps.map(Step.init)
        self.environment = environment.name
        app = environment.app
        root = host.settings.root
        python = environment.python
        source = environment.source
        supervisor = host.settings.supervisor
        nginx = host.settings.nginx
        health = Health(retries: environment.policy.health.retries,
                        intervalMilliseconds: environment.policy.health.interval.milliseconds)
        self.commit = commit
        lockTimeoutSeconds = 600
        var slots: [String: SlotRequest] = [:]
        for slot in Slot.allCases {
            let spec = environment.slotSpec(slot, on: host)
            slots[slot.rawValue] = SlotRequest(
                fingerprint: spec.fingerprint,
                requirements: spec.requirements,
                hashed: spec.hashed,
                programs: spec.programs.map { program in
                    SlotRequest.Program(
                        name: program.name,
                        supervisorName: program.supervisorName,
                        command: program.command,
                        processes: program.processes,
                        ports: program.ports,
                        health: program.health.map {
                            .init(path: $0.path, status: $0.status, timeoutMilliseconds: $0.timeout.milliseconds)
                        }
                    )
                }
            )
        }
        self.slots = slots
    }

    /// The program sent to the host: a small loader, the request and the agent, both base64 so that no byte of
    /// them is ever parsed as code. The loader keeps the compiled agent in `<root>/.pinwheel/`, so a host compiles
    /// each version of the agent once, not on every round trip.
    func script() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let request = try encoder.encode(self).base64EncodedString()
        return """
            import base64, json, marshal, os, sys
            REQUEST = "\(request)"
            DIGEST = "\(AgentScript.digest)"
            SOURCE = "\(AgentScript.encodedSource)"
            def load():
                root = json.loads(base64.b64decode(REQUEST))["root"]
                path = os.path.join(root, ".pinwheel", "agent-%s-%s.bin" % (DIGEST, sys.implementation.cache_tag))
                try:
                    with open(path, "rb") as handle:
                        return marshal.load(handle)
                except Exception:
                    pass
                code = compile(base64.b64decode(SOURCE).decode("utf-8"), "pinwheel-agent", "exec")
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    temporary = "%s.%d" % (path, os.getpid())
                    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
                        marshal.dump(code, handle)
                    os.replace(temporary, path)
                except Exception:
                    pass
                return code
            agent = {"__name__": "pinwheel_agent"}
            exec(load(), agent)
            agent["main"](REQUEST)

            """
    }
}
