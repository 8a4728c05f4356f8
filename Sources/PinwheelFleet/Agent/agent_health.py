"""Whether the slots are healthy: the `check` and `verify` steps, and the observation every request ends with."""
import time

from agent_wire import StepFailed, parse_duration
from agent_system import http_check, run_together
from agent_deployment import Part
from agent_programs import process_problems, settled, stale_groups, start_seconds


# What a step saw of supervisord and the web processes is reused by the observation that ends the request while
# nothing changed the processes since and it is at most this old.
SEEN_FOR_SECONDS = 2.0
# While a new slot starts, its web processes are asked this often (seconds) at most, not once per `interval`.
FIRST_CHECKS_PAUSE = 0.1


class Health(Part):
    """Asks supervisord and the web processes how the slots stand. What it saw an instant ago is reused by the
    observation that ends the request (`seen`), while nothing changed the processes since."""

    def __init__(self, deployment, supervisord, router, logs):
        Part.__init__(self, deployment)
        self.slots = deployment.slots
        self.retries = deployment.retries
        self.interval = deployment.interval
        self.supervisord = supervisord
        self.router = router
        self.logs = logs
        # What slot_problems saw (supervisord's generation, when, what), for the observation that ends the request.
        self.states_seen = None
        self.web_seen = {}

    def check_web(self, spec):
        """Every web process's health check, once and all at the same time; returns the problems."""
        checks = [(program["name"], port, program["health"])
                  for program in spec["programs"] if program.get("health") for port in program["ports"]]

        def probe(check):
            name, port, health = check
            url = "http://127.0.0.1:%d%s" % (port, health["path"])
            status, _, error = http_check(url, parse_duration(health["timeout"]))
            if status != health["status"]:
                found = "status %s" % status if status is not None else error
                return "%s on port %d: %s answered %s, expected %d" % (name, port, health["path"], found, health["status"])
            return None

        results = run_together([lambda check=check: probe(check) for check in checks])
        return [problem for problem in results if problem]

    def observe(self, probe=True):
        """What the host has. Without `probe`, web processes are not asked for their health: after successful
        steps, the steps' own checks said it, and skipping the requests keeps a switch cheap. What a step of this
        request saw an instant ago (verify, check) is reused rather than asked again."""
        seen = self.seen(self.states_seen)
        if seen:
            states, starting, started = seen
            supervisor_problem = None
        else:
            states, supervisor_problem = self.supervisord.states()
            starting = self.supervisord.starting
            started = self.supervisord.started
        result = {"slots": {}}
        for slot in self.slots:
            spec = self.spec(slot)
            manifest = self.read_manifest(self.slot_link(slot))
            processes = settled(spec, states, starting, stale_groups(spec, manifest, started))
            problems = []
            if supervisor_problem:
                problems.append(supervisor_problem)
            if manifest is not None:
                if probe:
                    web = self.seen(self.web_seen.get(slot))
                    problems += web[0] if web else self.check_web(spec)
                problems += process_problems(spec, processes)
            else:
                problems.append("not prepared")
            result["slots"][slot] = {"manifest": manifest, "processes": processes,
                                     "healthy": manifest is not None and not problems, "problems": problems}
        result["routed"], result["routedFingerprint"] = self.router.read_upstream()
        return result

    def slot_problems(self, spec):
        """Why the slot is not ready now: processes not RUNNING, or web processes not answering; empty when it is.

        What it saw is kept for this request's observation (see `seen`), so a slot just checked is not asked twice."""
        states, problem = self.supervisord.states()
        problems = [problem] if problem else []
        stale = stale_groups(spec, self.read_manifest(self.slot_link(spec["slot"])), self.supervisord.started)
        problems += process_problems(spec, settled(spec, states, self.supervisord.starting, stale))
        if not problems:
            problems = self.check_web(spec)
            self.web_seen[spec["slot"]] = (self.supervisord.generation, time.monotonic(), problems)
        if not problem:
            self.states_seen = (self.supervisord.generation, time.monotonic(), states, dict(self.supervisord.starting),
                                dict(self.supervisord.started))
        return problems

    def seen(self, kept):
        """What `kept` recorded, while nothing changed the processes since and it is fresh; None otherwise."""
        if kept is None or kept[0] != self.supervisord.generation or time.monotonic() - kept[1] > SEEN_FOR_SECONDS:
            return None
        return kept[2:]

    def pause_before_next_check(self, spec, checking):
        """The wait before the next health check: the interval, or less when the only thing missing is a process
        that supervisord will call RUNNING once its `startsecs` are up, or in the first second of checking (a web
        process usually answers a fraction of a second after it started)."""
        waits = []
        for program in spec["programs"]:
            for elapsed in self.supervisord.starting.get(program["supervisorName"], []):
                if elapsed is not None:
                    waits.append(start_seconds(program) - elapsed)
        if waits:
            return min(self.interval, max(0.02, max(waits) + 0.02))
        return min(self.interval, FIRST_CHECKS_PAUSE) if checking < 1.0 else self.interval

    def check(self, slot):
        """Waits until the slot is healthy, within the policy's window of `retries` x `interval`."""
        spec = self.spec(slot)
        window = self.retries * self.interval
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            problems = self.slot_problems(spec)
            if not problems:
                self.say("slot %s healthy after %d attempt%s" % (slot, attempts, "" if attempts == 1 else "s"))
                return False
            left = window - (time.monotonic() - started)
            if left <= 0 or self.retries == 1:
                break
            time.sleep(min(left, self.pause_before_next_check(spec, time.monotonic() - started)))
        raise StepFailed("health", "slot %s failed its health check after %d attempts in %.1fs: %s\n%s" % (
            slot, attempts, time.monotonic() - started, "; ".join(problems), self.logs.log_tail(spec).lstrip("\n")))

    def verify(self, slot):
        """The slot is built exactly as the request specifies, has served traffic on this host (it is a rollback
        target, not a build that was only ever prepared), all its processes run, and its web processes answer:
        checked once, no waiting. A host that changed since it was last observed refuses here."""
        manifest = self.read_manifest(self.slot_link(slot))
        if manifest is None or manifest.get("fingerprint") != self.fingerprint(slot):
            raise StepFailed("notPrepared", "slot %s is not prepared as desired" % slot)
        if not manifest.get("servedAt") and self.router.read_upstream() != (slot, self.fingerprint(slot)):
            raise StepFailed("notServed", "slot %s has never served traffic on this host" % slot)
        problems = self.slot_problems(self.spec(slot))
        if problems:
            raise StepFailed("notReady", "slot %s is not ready: %s" % (slot, "; ".join(problems)))
        return False
