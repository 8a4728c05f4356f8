"""Pinwheel's host agent, protocol 2.

Sent over SSH (or run locally) with its request and run as `python3 -I -S`; the Swift side embeds the agent's
modules in the pinwheel binary, and its loader calls `main(REQUEST)` with the base64 of the request JSON. The agent
answers with one line, `PINWHEEL-RESULT <reply JSON>`, on standard output.

The agent holds no decision logic: the controller plans, and the agent carries out the steps it is given in order,
stopping at the first failure, and reports what the host has (the observation). Each successful step says whether
it `changed` anything on the host (check and verify never do; a route to the slot already routed to does not).
With `fullObservation`, the observation after successful steps asks every web process for its health, as `observe`
does; otherwise it reports only what the steps' own checks said.

Standard library only, Python 3.8+. Every value arrives as JSON, never through a shell, and nothing the agent runs
passes through one. The configured commands (supervisor `ctl`, nginx `test` and `reload`) are argument vectors of
plain words, checked here as the Swift side checks them (`command_words`): an optional `sudo`, then a program allowed
for that command, and no path inside the deploy root; they run only in requests that change something (`execute`).
Observing talks to supervisord over its socket, or runs the fixed `supervisorctl [-c FILE] [-s URL] status`. Every
program is started by its absolute path, from the system's folders (`SYSTEM_PATH`), never through a PATH a slot's
`bin/` comes first in; installs run with the host's pip and uv configuration turned off (`install_environment`). A
deploy root, or a folder of it, that someone other than the SSH user (or root) owns or that its group or others may
write is refused before anything is read from it (`root_problem`).

Observing must be cheap (it runs on every host on every reconcile, and the agent is a new process each time), so
only modules written in C are imported here: `json`, `socket`, `threading`, `shlex` and `configparser` each pull in
`re`, `enum` or `collections`, which together cost a round trip ~15 ms of CPU, more than the observation itself. JSON
goes through `_json` (json's own C codec), sockets through `_socket`, the health probes run on `_thread`s, commands
start with `posix_spawn`, and HTTP and XML-RPC are spoken directly over sockets instead of through http.client, whose
import alone costs ~35 ms. Preparing a slot keeps to that too (its own `find_program`, `remove_tree` and
`compile_source` instead of shutil and py_compile); the heavy modules are imported only where a rarer step needs them
(subprocess for a hook, compileall's worker processes for a large install).

One payload, one process: the agent is small modules by responsibility, each imported on its own by its unit tests,
and sent to hosts as ONE program text, the modules joined in the order of PAYLOAD_MODULES (each after the modules it
imports) with their imports of each other left out (`from agent_x import a, b`, one line each at the top of a
module): in one namespace those names are already defined. `AgentScript.swift` joins them; the tests check it joins
them as `Tests/AgentTests/payload.py` does. Which module does what:
    agent_wire        the protocol: its reply and step codes (documented there), failures, JSON, durations
    agent_system      the host's own: connections, commands (posix_spawn), threads, atomic writes, HTTP, uptime
    agent_commands    the configured commands and the deploy root checked; the installers' environment
    agent_request     the request checked whole before anything is done
    agent_deployment  what the request names on this host: folders, slots, manifests, the step's output
    agent_artifacts   the store of shipped files, by SHA-256 (`artifacts` and `receive` requests)
    agent_supervisor  supervisord over its XML-RPC socket, or supervisorctl
    agent_programs    the slot's supervisord section, the `start` step, how its processes stand
    agent_hooks       release hooks (`beforeSwitch`, `afterSwitch`, prepare's), and running as a program runs
    agent_logs        `logs` and `exec` (the agent becomes tail or the command), a failed check's last log lines
    agent_routing     the nginx upstream file: the `route` step, verified through nginx
    agent_health      the `check` and `verify` steps and the observation
    agent_bytecode    bytecode compiled at install time, or taken from the running builds
    agent_building    the `prepare` step: venv, install, bytecode, the slot's link
    agent_lock        the host's lock and the lease epoch's fence
    pinwheel_agent    the request's dispatch: one `Agent` of those collaborators, `handle` and `main`
"""
import binascii
import os
import sys
import time

from agent_wire import MARKER, PROTOCOL, BadRequest, StepFailed, json_dumps, json_loads
from agent_system import ENOSPC
from agent_commands import root_problem
from agent_request import validate
from agent_deployment import Deployment
from agent_artifacts import ArtifactStore
from agent_supervisor import Supervisor
from agent_programs import Programs, settings_of, stop_wait_seconds
from agent_hooks import Hooks
from agent_logs import Logs
from agent_routing import Router
from agent_health import Health
from agent_building import Builder, host_platform
from agent_lock import HostLock


# The agent's modules in the order they are joined into the one program text hosts run: each after those it imports.
PAYLOAD_MODULES = ("agent_wire", "agent_system", "agent_commands", "agent_request", "agent_deployment",
                   "agent_artifacts", "agent_supervisor", "agent_programs", "agent_hooks", "agent_logs",
                   "agent_routing", "agent_health", "agent_bytecode", "agent_building", "agent_lock", "pinwheel_agent")
# Which collaborator carries out each step, by the step's action (its method has the action's name).
STEP_OWNERS = {"prepare": "builder", "start": "programs", "check": "health", "route": "router", "verify": "health",
               "beforeSwitch": "hooks", "afterSwitch": "hooks"}


class Agent:
    """Carries out one request's steps on this host and observes it; decides nothing. Each step is one collaborator's
    method (STEP_OWNERS); they share the request's `Deployment` and one connection to supervisord."""

    def __init__(self, request):
        self.deployment = Deployment(request)
        self.root = self.deployment.root
        self.artifacts = self.deployment.artifacts
        self.shipped_uv = self.deployment.shipped_uv
        self.full_observation = self.deployment.full_observation
        self.supervisord = Supervisor(self.deployment.supervisor_settings["ctl"],
                                      os.path.join(self.deployment.root, ".pinwheel"),
                                      read_only=request["action"] != "execute")
        self.supervisord.stop_wait = 5 + max([30] + [stop_wait_seconds(settings_of(program))
                                                      for slot in self.deployment.slots
                                                      for program in self.deployment.spec(slot)["programs"]])
        self.programs = Programs(self.deployment, self.supervisord)
        self.hooks = Hooks(self.deployment)
        self.logs = Logs(self.deployment, self.hooks)
        self.router = Router(self.deployment)
        self.health = Health(self.deployment, self.supervisord, self.router, self.logs)
        self.builder = Builder(self.deployment, self.supervisord, self.programs, self.hooks)
        self.host_lock = HostLock(self.deployment)

    def step(self, action):
        """The method that carries out the step `action` (validated to be one of STEP_ACTIONS)."""
        return getattr(getattr(self, STEP_OWNERS[action]), action)

    def observe(self, probe=True):
        result = self.health.observe(probe)
        result["platform"] = host_platform()
        return result

    def fence(self, record):
        return self.host_lock.fence(record)

    def become_tail(self, request):
        self.logs.become_tail(request)

    def become_command(self, request):
        self.logs.become_command(request)

    def execute(self, steps):
        """Runs the steps in order under the host's lock, stopping at the first failure."""
        lock = self.host_lock.lock()
        if lock is None:
            return reply(False, "locked", "another Pinwheel run held the lock on %s for more than %s seconds; "
                         "try again when it is done" % (self.deployment.base, self.host_lock.lock_timeout),
                         observation=self.observe())
        done = []
        try:
            refusal = self.fence(record=True)
            if refusal:
                return reply(False, "fenced", refusal, observation=self.observe())
            for step in steps:
                started = time.monotonic()
                self.deployment.start_step()
                try:
                    changed = self.step(step["action"])(step["slot"])
                except Exception as error:
                    if isinstance(error, StepFailed):
                        code, message, detail = error.code, error.diagnosis, error.detail
                    elif isinstance(error, OSError) and error.errno == ENOSPC:
                        code, message, detail = "diskFull", "the host's disk is full (%s); free space on it" % error, None
                    else:
                        code, message, detail = "internal", "%s: %s" % (type(error).__name__, error), None
                    done.append(step_result(step, False, started, self.deployment.output, code=code, error=message,
                                            detail=detail))
                    return reply(False, "stepFailed", "%s %s: %s" % (step["action"], step["slot"], message),
                                 steps=done, observation=self.observe())
                done.append(step_result(step, True, started, self.deployment.output, changed,
                                        measured=self.deployment.measured))
            return reply(True, steps=done, observation=self.observe(probe=self.full_observation))
        finally:
            self.host_lock.unlock(lock)


def step_result(step, ok, started, output, changed=None, code=None, error=None, detail=None, measured=None):
    """A step's result; `changed` is None for a failed step (what it left behind is in the observation). `measured`
    adds what the step timed (`nginxVerifySeconds`)."""
    result = {"step": step, "ok": ok, "seconds": round(time.monotonic() - started, 3), "output": output,
              "changed": changed, "code": code, "error": error, "detail": detail}
    result.update(measured or {})
    return result


def reply(ok, code=None, error=None, steps=(), observation=None):
    """A protocol 2 reply; every key is always present."""
    return {"protocol": PROTOCOL, "ok": ok, "code": code, "error": error, "steps": list(steps),
            "observation": observation}


def handle(request):
    """The reply to a decoded request."""
    if not isinstance(request, dict):
        return reply(False, "badRequest", "the request is not a JSON object")
    if request.get("protocol") != PROTOCOL:
        return reply(False, "protocol", "the host agent speaks protocol %d, the request is protocol %s; the agent and "
                     "the pinwheel that sent the request must come from the same build" % (
                         PROTOCOL, request.get("protocol", 1)))
    try:
        validate(request)
    except BadRequest as error:
        return reply(False, "badRequest", "malformed request: %s" % error)
    problem = root_problem(request["settings"]["root"], request["environment"])
    if problem:
        return reply(False, "unsafeRoot", "refused: the deploy root is not the SSH user's alone: %s" % problem)
    try:
        agent = Agent(request)
        refusal = agent.fence(record=False)
        if refusal:
            return reply(False, "fenced", refusal)
        if request["action"] == "observe":
            return reply(True, observation=agent.observe())
        if request["action"] == "artifacts":
            result = reply(True)
            result["missing"] = ArtifactStore(agent.root).missing(
                [artifact for slot in sorted(agent.artifacts) for artifact in agent.artifacts[slot]] +
                ([agent.shipped_uv] if agent.shipped_uv else []))
            return result
        if request["action"] == "receive":
            ArtifactStore(agent.root).receive(request["receive"])
            return reply(True)
        if request["action"] == "logs":
            agent.become_tail(request["logs"])
        if request["action"] == "exec":
            agent.become_command(request["exec"])
        return agent.execute(request["steps"])
    except StepFailed as error:
        return reply(False, error.code, str(error))
    except Exception as error:
        return reply(False, "internal", "the host agent failed: %s: %s" % (type(error).__name__, error))


def main(encoded):
    """Runs the request `encoded` (base64 of its JSON) and prints the one result line."""
    try:
        request = json_loads(binascii.a2b_base64(encoded).decode("utf-8"))
    except Exception as error:
        result = reply(False, "badRequest", "the request is not base64 JSON: %s" % error)
    else:
        result = handle(request)
    sys.stdout.write(MARKER + json_dumps(result) + "\n")
    sys.stdout.flush()
