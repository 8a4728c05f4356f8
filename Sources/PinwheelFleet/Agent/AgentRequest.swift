import Foundation
import PinwheelCore
import PinwheelProcess

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
        /// Which of `artifacts` the host's store lacks, and how much of each it has received already.
        case artifacts
        /// Pieces of artifacts to append to the host's store (`receive`), each checked by hash when complete.
        case receive
    }

    /// A piece of a shipped file: its bytes from `offset` (what the host said it has), base64.
    struct Piece: Encodable, Sendable {
        var name: String
        var sha256: String
        var size: Int
        var offset: Int
        var data: String
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
    /// The environment's lease epoch when controllers share a fleet: the host refuses a lower one than it has seen
    /// (`fenced`). Nil for a controller that runs alone and for an operator's commands.
    var epoch: Int64?
    /// The files each shipped slot (`source: {ship: …}`) installs, by slot name: asked about (`artifacts`), and linked
    /// into the build's find-links folder (`execute`).
    var artifacts: [String: [ShippedArtifact]]?
    /// uv's wheel for this host (`ship: {uv: …}`, a host with no uv of its own): asked about and shipped with the
    /// artifacts, and unpacked into the host's store to build the prepared slots.
    var uv: ShippedArtifact?
    /// With `receive`: what to write.
    var receive: [Piece]?

    init(_ action: Action, steps: [HostPlan.Step] = [], target: HostTarget, commit: String?, lockTimeoutSeconds: Int = 600,
         fullObservation: Bool = false, epoch: Int64? = nil) {
        self.epoch = epoch
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

    /// How the agent's program text travels with a request.
    enum Loading: Sendable {
        /// With the agent's source, compiled and kept by a host that has not kept this version yet.
        case withSource
        /// Without it: a host that has not kept this version answers `AgentRequest.missingAgent` and does nothing,
        /// and the request is sent again `withSource`. Saves every round trip but a host's first the agent's 75 KB
        /// (about 7 ms of CPU per round trip in ssh, sshd and the host's interpreter).
        case cached
        /// Without it, for a command line (`exec` on a terminal): a host without it exits with an explanation.
        case cachedOnly
    }

    /// What a loader sent `.cached` prints when the host has not kept this version of the agent.
    static let missingAgent = "PINWHEEL-AGENT-MISSING"

    /// The program sent to the host: a small loader and the request, base64 so that no byte of the request is ever
    /// parsed as code. The loader runs the agent the host compiled and kept in `<root>/.pinwheel/` on an earlier
    /// round trip, so a host compiles each version of the agent once; it imports only modules written in C (see the
    /// agent's module documentation).
    ///
    /// The kept agent is run only when the folder and the file are the SSH user's own (not links, owned by it, not
    /// writable by its group or others) and the file starts with this agent's digest, sent with every request, and the
    /// SHA-256 of the code that follows: another user, a truncated write or another version's file never runs. It is
    /// written with an exclusive, no-follow open beside its name and renamed into place, and only into a folder that
    /// passes the same checks, in a deploy root that only the SSH user or root may write (the agent then refuses a
    /// deploy root that does not, saying why).
    ///
    /// The text comes in three parts, the loader up to the agent's source, the source (empty unless `withSource`) and
    /// the rest of the loader, which the host reads as one text: the source is then ``AgentScript/encodedSource``
    /// itself, one copy for every host, not a copy joined into each host's text (see ``ProcessInput``).
    func script(_ loading: Loading = .withSource) throws -> ProcessInput {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let request = try encoder.encode(self).base64EncodedString()
        let cache = Data((settings.root as NSString).appendingPathComponent(".pinwheel").utf8).base64EncodedString()
        let missing: String
        switch loading {
        case .withSource:
            missing = """
                    code = compile(binascii.a2b_base64(SOURCE).decode("utf-8"), "pinwheel_agent.py", "exec")
                    try:
                        if safe_root():
                            os.makedirs(CACHE, 0o700, exist_ok=True)
                        if safe_root() and owned(os.lstat(CACHE), 0o040000):
                            payload = marshal.dumps(code)
                            temporary = "%s.%d.%s" % (path, os.getpid(), binascii.hexlify(os.urandom(6)).decode())
                            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                            with open(handle, "wb") as stream:
                                stream.write(header(payload) + payload)
                            os.replace(temporary, path)
                    except Exception:
                        pass
                    return code
                """
        case .cached:
            missing = """
                    sys.stdout.write("\(Self.missingAgent)\\n")
                    sys.exit(0)
                """
        case .cachedOnly:
            missing = """
                    sys.exit("pinwheel: the host has no compiled agent of this version; run `pinwheel plan` and try again")
                """
        }
        let opening = """
            import binascii, marshal, os, sys
            try:
                from _sha2 import sha256
            except ImportError:
                try:
                    from _sha256 import sha256
                except ImportError:
                    from hashlib import sha256
            REQUEST = "\(request)"
            CACHE = binascii.a2b_base64("\(cache)").decode("utf-8")
            DIGEST = "\(AgentScript.digest)"
            SOURCE = "
            """
        let closing = """
            "
            def owned(status, kind):
                return status.st_mode & 0o170000 == kind and status.st_uid == os.geteuid() and not status.st_mode & 0o022
            def safe_root():
                try:
                    status = os.stat(os.path.dirname(CACHE))
                except FileNotFoundError:
                    return True
                return status.st_uid in (os.geteuid(), 0) and not status.st_mode & 0o022
            def header(payload):
                return ("pinwheel-agent %s %s\\n" % (DIGEST, sha256(payload).hexdigest())).encode()
            def load():
                path = os.path.join(CACHE, "agent-%s-%s.bin" % (DIGEST, sys.implementation.cache_tag))
                try:
                    if safe_root() and owned(os.lstat(CACHE), 0o040000):
                        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                        with open(handle, "rb") as stream:
                            if owned(os.fstat(handle), 0o100000):
                                first, _, payload = stream.read().partition(b"\\n")
                                if first + b"\\n" == header(payload):
                                    return marshal.loads(payload)
                except Exception:
                    pass
            \(missing)
            agent = {"__name__": "pinwheel_agent"}
            exec(load(), agent)
            agent["main"](REQUEST)

            """
        return ProcessInput(parts: [opening, loading == .withSource ? AgentScript.encodedSource : "", closing])
    }
}
