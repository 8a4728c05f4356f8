import Foundation
import PinwheelCore

/// What the host agent is asked to do: the plan steps and the host's resolved desired state, as the Codable values
/// Swift already has, so the agent and the planner can never disagree on a field.
struct AgentRequest: Encodable, Sendable {
    /// The version of the request and reply format; the agent refuses any other, naming both.
    static let protocolVersion = 2

    enum Action: String, Encodable, Sendable {
        case observe
        case execute
        /// The agent becomes `tail` over the programs' logs.
        case logs
        /// The agent becomes the command, run as the slot's program runs.
        case exec
    }

    /// What `logs` shows.
    struct Logs: Encodable, Sendable {
        var slots: [Slot]
        /// Program names; empty for every program.
        var programs: [String]
        var lines: Int
        var follow: Bool
    }

    /// What `exec` runs.
    struct Exec: Encodable, Sendable {
        var slot: Slot
        var program: String?
        var argv: [String]
    }

    var `protocol` = AgentRequest.protocolVersion
    var action: Action
    var steps: [HostPlan.Step]
    var environment: String
    var app: String
    var settings: HostSettings
    var slots: PerSlot<ResolvedSlot>
    var health: Policy.HealthPolicy
    /// The release's hooks; the prepare hook also travels in each slot's spec, which it is part of.
    var hooks: ReleaseHooks
    var commit: String?
    var lockTimeoutSeconds: Int
    /// With `execute`: after the steps succeed, observe fully (ask every web process for its health), as `observe`
    /// does, instead of reporting only what the steps' own checks said.
    var fullObservation: Bool
    var logs: Logs?
    var exec: Exec?

    init(_ action: Action, steps: [HostPlan.Step] = [], target: HostTarget, commit: String?, lockTimeoutSeconds: Int = 600,
         fullObservation: Bool = false) {
        self.action = action
        self.steps = steps
        self.fullObservation = fullObservation
        environment = target.environment
        app = target.app
        settings = target.settings
        slots = target.slots
        health = target.health
        hooks = target.hooks
        self.commit = commit
        self.lockTimeoutSeconds = lockTimeoutSeconds
    }

    /// A loader that runs the agent the host compiled and kept on an earlier round trip, without its source: small
    /// enough for a command line (`exec` on a terminal sends its script there, leaving standard input to the person).
    func cachedScript() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let request = try encoder.encode(self).base64EncodedString()
        return """
            import base64, json, marshal, os, sys
            REQUEST = "\(request)"
            root = json.loads(base64.b64decode(REQUEST))["settings"]["root"]
            path = os.path.join(root, ".pinwheel", "agent-\(AgentScript.digest)-%s.bin" % sys.implementation.cache_tag)
            try:
                with open(path, "rb") as handle:
                    code = marshal.load(handle)
            except Exception as error:
                sys.exit("pinwheel: the host has no compiled agent of this version (%s); run `pinwheel plan` and try again" % error)
            agent = {"__name__": "pinwheel_agent"}
            exec(code, agent)
            agent["main"](REQUEST)

            """
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
                root = json.loads(base64.b64decode(REQUEST))["settings"]["root"]
                path = os.path.join(root, ".pinwheel", "agent-%s-%s.bin" % (DIGEST, sys.implementation.cache_tag))
                try:
                    with open(path, "rb") as handle:
                        return marshal.load(handle)
                except Exception:
                    pass
                code = compile(base64.b64decode(SOURCE).decode("utf-8"), "pinwheel_agent.py", "exec")
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
