"""Release hooks (prepare, beforeSwitch, afterSwitch), and running a command as a slot's program runs (`as_program`,
which `exec` uses too)."""
import os
import time

from agent_wire import StepFailed, parse_duration
from agent_system import SYSTEM_PATH, system_program
from agent_deployment import Part
from agent_programs import settings_of


# The last lines of a hook's output kept for the report and the status.
HOOK_OUTPUT_LINES = 20


class Hooks(Part):
    """Runs the release hooks the request names, from the slot's venv, as its program runs."""

    def __init__(self, deployment):
        Part.__init__(self, deployment)
        self.env = deployment.env
        self.hooks = deployment.hooks

    def beforeSwitch(self, slot):
        self.run_hook("beforeSwitch", self.hooks.get("beforeSwitch"), slot, os.path.realpath(self.slot_link(slot)))
        return True

    def afterSwitch(self, slot):
        self.run_hook("afterSwitch", self.hooks.get("afterSwitch"), slot, os.path.realpath(self.slot_link(slot)))
        return True

    def as_program(self, slot, name, target, words, extra, code):
        """The argv, environment and working directory that run `words` as program `name` (default: the first) of
        the slot runs: from the venv's `bin/`, with its variables, its envFile (read by `sh` on the host) and its
        user. `words` never pass through a shell."""
        spec = self.spec(slot)
        program = next((p for p in spec["programs"] if p["name"] == name), spec["programs"][0])
        settings = settings_of(program)
        venv = os.path.join(target, "venv")
        argv = list(words)
        if "/" not in argv[0]:
            argv[0] = os.path.join(venv, "bin", argv[0])
        port = str(program["ports"][0]) if program["ports"] else ""
        environment = dict(os.environ)
        environment.update({"PINWHEEL_ENVIRONMENT": self.env, "PINWHEEL_SLOT": slot, "VIRTUAL_ENV": venv,
                            "PATH": os.path.join(venv, "bin") + ":" + os.environ.get("PATH", "")})
        environment.update(extra)
        for key, value in (settings.get("environment") or {}).items():
            environment[key] = value.replace("{slot}", slot).replace("{port}", port)
        if settings.get("envFile"):
            argv = ["/bin/sh", "-c", 'set -a; . "$0"; set +a; exec "$@"', settings["envFile"]] + argv
        user = settings.get("user")
        if user:
            import pwd
            if pwd.getpwuid(os.geteuid()).pw_name != user:
                if os.geteuid() != 0:
                    raise StepFailed(code, "program %s runs as %s, and the SSH user is not root" % (program["name"], user))
                runuser = system_program("runuser")
                if runuser is None:
                    raise StepFailed(code, "program %s runs as %s, and this host has no runuser in %s" % (
                        program["name"], user, ":".join(SYSTEM_PATH)))
                argv = [runuser, "-u", user, "--"] + argv
        return argv, environment, settings.get("directory") or target

    def run_hook(self, kind, hook, slot, target):
        """Runs a release hook from the slot's venv `bin/` with its program's environment, envFile, user and
        directory, as the program's processes get them; the words are never given to a shell. Its last lines go into
        the step's output, and a failure or a timeout fails the step with them."""
        import shlex
        import signal
        import subprocess
        if not hook:
            raise StepFailed("hook", "the request has no %s hook" % kind)
        if self.read_manifest(target) is None:
            raise StepFailed("notPrepared", "slot %s is not prepared" % slot)
        argv, environment, directory = self.as_program(slot, hook.get("program"), target, shlex.split(hook["command"]),
                                                       {"PINWHEEL_HOOK": kind}, "hook")
        timeout = parse_duration(hook.get("timeout") or "10m")
        started = time.monotonic()
        try:
            process = subprocess.Popen(argv, cwd=directory, env=environment,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       start_new_session=True, universal_newlines=True, errors="replace")
        except OSError as error:
            raise StepFailed("hook", "the %s hook `%s` could not start: %s" % (kind, hook["command"], error))
        try:
            output, _ = process.communicate(timeout=timeout)
            code = process.returncode
        except subprocess.TimeoutExpired:
            # The hook's whole process group, so nothing it started outlives it.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            output, _ = process.communicate()
            code = None
        tail = output.splitlines()[-HOOK_OUTPUT_LINES:]
        for line in tail:
            self.say("%s: %s" % (kind, line))
        if code is None:
            raise StepFailed("hook", "the %s hook `%s` ran past its timeout of %s and was ended:\n%s" % (
                kind, hook["command"], hook.get("timeout") or "10m", "\n".join(tail)))
        if code != 0:
            raise StepFailed("hook", "the %s hook `%s` exited %d:\n%s" % (kind, hook["command"], code, "\n".join(tail)))
        self.say("%s hook `%s` done in %.1fs" % (kind, hook["command"], time.monotonic() - started))
