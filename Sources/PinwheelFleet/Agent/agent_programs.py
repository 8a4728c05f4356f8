"""The slot's programs as supervisord runs them: the config section written for each, and starting them. How a
program's processes stand (`settled`, `process_problems`, `stale_groups`) is read here too, from supervisord's
states."""
import os

from agent_wire import StepFailed, parse_duration
from agent_system import boot_id, write_atomically
from agent_deployment import Part


# A process counts as started before its build only by more than this (both in seconds since boot, a process's in
# clock ticks).
STALE_TOLERANCE_SECONDS = 0.5


def settings_of(program):
    """A program's settings (environment, envFile, user, ...); empty for a program that sets none."""
    return program.get("settings") or {}


def start_seconds(program):
    """supervisord's `startsecs` of a program: its `startSeconds`, else none for a web process (its health check
    says it started) and one second for the others (a process that exits within it did not start)."""
    seconds = settings_of(program).get("startSeconds")
    if seconds is not None:
        return seconds
    return 0 if program["ports"] else 1


def stop_wait_seconds(settings):
    """supervisord's `stopwaitsecs`: the program's `stopTimeout` in whole seconds (rounded up), else its default."""
    timeout = settings.get("stopTimeout")
    if timeout is None:
        return 10
    return max(1, int(-(-parse_duration(timeout) // 1)))


def supervisor_value(value, slot, web):
    """A value for supervisord's `environment=`, which splits the line with shlex in non-POSIX mode: quoted with `"`,
    or `'` when the value holds a `"` (the config never allows both, nor a space before `;` or `#`, which
    supervisord's parser would take for a comment); `%` doubled (supervisord expands `%(name)s`); `{slot}` the slot
    and `{port}` each web process's port."""
    quote = "'" if '"' in value else '"'
    pieces = value.replace("{slot}", slot).split("{port}") if web else [value.replace("{slot}", slot)]
    return quote + "%(process_num)d".join(piece.replace("%", "%%") for piece in pieces) + quote


def settled(spec, states, starting, stale=()):
    """The states of the slot's programs with each STARTING process that has been up for its `startsecs` as RUNNING:
    supervisord calls it that on the next tick of its loop, which can come a second later. The running processes of
    a program in `stale` are STALE: they run an older build than the slot's."""
    result = {}
    for program in spec["programs"]:
        name = program["supervisorName"]
        elapsed = list(starting.get(name, []))
        found = []
        for state in states.get(name, []):
            age = elapsed.pop(0) if state == "STARTING" and elapsed else None
            state = "RUNNING" if age is not None and age >= start_seconds(program) else state
            found.append("STALE" if name in stale and state in ("RUNNING", "STARTING") else state)
        result[name] = found
    return result


def process_problems(spec, states):
    """The slot's programs whose processes are not all RUNNING, as supervisord states them."""
    problems = []
    for program in spec["programs"]:
        got = states.get(program["supervisorName"], [])
        if "STALE" in got:
            problems.append("%s: runs a build older than the slot's (its new config was never loaded)" % program["supervisorName"])
        elif not got or any(state != "RUNNING" for state in got):
            problems.append("%s: %s" % (program["supervisorName"], ", ".join(got) or "not known to supervisord"))
    return problems


def stale_groups(spec, manifest, started):
    """The slot's programs with a process that started before the slot's build was made: it runs an older build
    or older settings (a run cut short between moving the slot's link and supervisord loading its new section),
    however RUNNING and healthy it looks."""
    built = (manifest or {}).get("builtAt")
    # Times since boot compare only within the boot that made the build (after a reboot, everything restarted).
    if not isinstance(built, dict) or built.get("boot") != boot_id() or not isinstance(built.get("uptime"), (int, float)):
        return set()
    stale = set()
    for program in spec["programs"]:
        name = program["supervisorName"]
        if any(moment is not None and moment < built["uptime"] - STALE_TOLERANCE_SECONDS
               for moment in started.get(name, [])):
            stale.add(name)
    return stale


class Programs(Part):
    """Writes the slot's supervisord section and starts its programs (the `start` step)."""

    def __init__(self, deployment, supervisord):
        Part.__init__(self, deployment)
        self.env = deployment.env
        self.log_dir = deployment.log_dir
        self.supervisord = supervisord

    def supervisor_conf(self, slot, target):
        """The supervisord programs of the slot's build at `target`: web processes numbered by their ports."""
        spec = self.spec(slot)
        bin_dir = os.path.join(target, "venv", "bin")
        sections = []
        for program in spec["programs"]:
            settings = settings_of(program)
            command = program["command"].replace("%", "%%")
            words = command.split(None, 1)
            if "/" not in words[0]:
                words[0] = os.path.join(bin_dir, words[0])
            command = " ".join(words)
            if settings.get("envFile"):
                # The file is read on the host at each start, by a shell that then becomes the program: its
                # secrets never pass through Pinwheel. Its path is $0, the program's words "$@", nothing is spliced.
                command = "/bin/sh -c 'set -a; . \"$0\"; set +a; exec \"$@\"' %s %s" % (settings["envFile"], command)
            name = program["supervisorName"]
            ports = program["ports"]
            lines = ["[program:%s]" % name]
            if ports:
                command = command.replace("{port}", "%(process_num)d")
                lines += ["numprocs=%d" % len(ports), "numprocs_start=%d" % ports[0]]
            else:
                lines += ["numprocs=%d" % program["processes"], "numprocs_start=0"]
            variables = [("PINWHEEL_ENVIRONMENT", self.env), ("PINWHEEL_SLOT", slot)]
            variables += sorted((settings.get("environment") or {}).items())
            lines += [
                "command=%s" % command,
                "process_name=%(program_name)s_%(process_num)d",
                "directory=%s" % (settings.get("directory") or target),
                "autostart=true",
                "autorestart=true",
                "startsecs=%d" % start_seconds(program),
                "startretries=3",
                "stopasgroup=true",
                "killasgroup=true",
                "stopwaitsecs=%d" % stop_wait_seconds(settings),
                "redirect_stderr=true",
                "stdout_logfile=%s" % os.path.join(self.log_dir, "%s_%%(process_num)d.log" % name),
                "stdout_logfile_maxbytes=10MB",
                "stdout_logfile_backups=2",
                "environment=%s" % ",".join("%s=%s" % (key, supervisor_value(value, slot, bool(ports)))
                                            for key, value in variables),
            ]
            # Written only when set, so a program without settings keeps the section it always had.
            if settings.get("stopSignal"):
                lines.append("stopsignal=%s" % settings["stopSignal"])
            if settings.get("user"):
                lines.append("user=%s" % settings["user"])
            sections.append("\n".join(lines))
        header = "; Managed by Pinwheel: environment %s, slot %s, fingerprint %s. Do not edit.\n" % (
            self.env, slot, self.fingerprint(slot))
        return header + "\n\n".join(sections) + "\n"

    def write_supervisor_conf(self, slot, target):
        """Writes the slot's programs; False when the file already says exactly that (supervisord needs no update)."""
        os.makedirs(self.log_dir, exist_ok=True)
        text = self.supervisor_conf(slot, target)
        path = self.deployment.conf_path(slot)
        try:
            with open(path) as handle:
                if handle.read() == text:
                    return False
        except OSError:
            pass
        write_atomically(path, text)
        return True

    def start(self, slot):
        """Starts the slot's programs; returns whether anything changed (a new config, or a program started)."""
        spec = self.spec(slot)
        target = os.path.realpath(self.slot_link(slot))
        if self.read_manifest(target) is None:
            raise StepFailed("notPrepared", "slot %s is not prepared" % slot)
        changed = self.write_supervisor_conf(slot, target)
        # Always: supervisord may hold an older section than the file (a run cut short between writing it and
        # loading it), and starting a group it holds would start the older build. Nothing loaded changed: no restart.
        self.supervisord.update()
        states, _ = self.supervisord.states()
        manifest = self.read_manifest(target)
        stale = stale_groups(spec, manifest, self.supervisord.started)
        for name in sorted(stale):
            self.say("restarting %s: it ran a build older than slot %s's" % (name, slot))
            problem = self.supervisord.restart_group(name)
            if problem:
                self.say("restarting %s: %s" % (name, problem))
        if stale:
            changed = True
            states, _ = self.supervisord.states()
        for program in spec["programs"]:
            name = program["supervisorName"]
            got = states.get(name, [])
            if got and all(state in ("RUNNING", "STARTING") for state in got) and name in stale:
                continue
            if got and all(state == "RUNNING" for state in got):
                continue
            changed = True
            if not got:
                self.supervisord.update()
            problem = self.supervisord.start_group(name)
            if problem:
                self.say("starting %s: %s" % (name, problem))
        return changed
