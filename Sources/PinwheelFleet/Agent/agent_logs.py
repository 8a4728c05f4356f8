"""The programs' log files: `logs` and `exec` requests, where the agent becomes `tail` or the command and its output
streams back over SSH, and the last lines a failed check reports."""
import os
import sys

from agent_wire import StepFailed
from agent_system import SYSTEM_PATH, system_program
from agent_deployment import Part


class Logs(Part):
    """The slots' log files, and the agent becoming `tail` over them or a command run as a program runs."""

    def __init__(self, deployment, hooks):
        Part.__init__(self, deployment)
        self.log_dir = deployment.log_dir
        self.hooks = hooks

    def log_files(self, slots, programs):
        """The log file of every process of the programs (all when empty) of the slots."""
        files = []
        for slot in slots:
            for program in self.spec(slot)["programs"]:
                if programs and program["name"] not in programs:
                    continue
                for index in program["ports"] or range(program["processes"]):
                    files.append(os.path.join(self.log_dir, "%s_%d.log" % (program["supervisorName"], index)))
        return files

    def become_tail(self, request):
        """Replaces the agent with `tail` over the programs' logs: `-F` follows them through rotation until the
        SSH session ends. Each file's lines come after tail's `==> path <==` header."""
        files = self.log_files(request["slots"], request["programs"])
        if not files:
            raise StepFailed("notPrepared", "no program matches %s" % ", ".join(request["programs"]))
        if not request["follow"]:
            # Without -F, tail fails on a file that is not there yet (a process that never wrote).
            files = [path for path in files if os.path.exists(path)]
            if not files:
                raise StepFailed("notPrepared", "no program has written a log on this host yet")
        tail = system_program("tail")
        if tail is None:
            raise StepFailed("notPrepared", "this host has no tail in %s" % ":".join(SYSTEM_PATH))
        argv = [tail, "-n", str(request["lines"]), "-v"] + (["-F"] if request["follow"] else []) + ["--"] + files
        sys.stdout.flush()
        os.execv(tail, argv)

    def become_command(self, request):
        """Replaces the agent with the command, run as the slot's program runs, its exit status the session's."""
        slot = request["slot"]
        target = os.path.realpath(self.slot_link(slot))
        if self.read_manifest(target) is None:
            raise StepFailed("notPrepared", "slot %s is not prepared on this host" % slot)
        argv, environment, directory = self.hooks.as_program(slot, request.get("program"), target, request["argv"],
                                                       {"PINWHEEL_EXEC": "1"}, "exec")
        os.chdir(directory)
        sys.stdout.flush()
        try:
            os.execve(argv[0], argv, environment)
        except OSError as error:
            raise StepFailed("exec", "cannot run %s: %s" % (argv[0], error))

    def log_tail(self, spec):
        """The last lines of each program's first log: the host's own words on why a check failed."""
        tails = []
        for program in spec["programs"]:
            for index in (program["ports"] or range(program["processes"]))[:1]:
                path = os.path.join(self.log_dir, "%s_%d.log" % (program["supervisorName"], index))
                try:
                    with open(path, errors="replace") as handle:
                        lines = handle.read().splitlines()[-15:]
                except OSError:
                    continue
                if lines:
                    tails.append("\n--- last lines of %s ---\n%s" % (path, "\n".join(lines)))
        return "".join(tails)
