"""What one request names on this host, read by every collaborator: the environment's folders, the slots it asks for
and their builds' manifests, and what the current step says."""
import os

from agent_wire import json_dumps, json_loads, parse_duration


class Deployment:
    """One request's environment on this host: its settings, folders and slots (`spec`, `fingerprint`, the slot's
    link and build folder), and the output and measurements of the step being run. The collaborators read it; only
    the agent starts a new step (`start_step`)."""

    def __init__(self, request):
        settings = request["settings"]
        self.env = request["environment"]
        self.app = request["app"]
        self.root = settings["root"]
        self.base = os.path.join(settings["root"], self.env)
        self.epoch = request.get("epoch")
        self.slots_dir = os.path.join(self.base, "slots")
        self.log_dir = os.path.join(self.base, "logs")
        self.supervisor_settings = settings["supervisor"]
        self.nginx = settings["nginx"]
        self.slots = request["slots"]
        self.retries = max(1, request["health"]["retries"])
        self.interval = parse_duration(request["health"]["interval"])
        self.commit = request.get("commit")
        self.lock_timeout = request.get("lockTimeoutSeconds")
        self.full_observation = bool(request.get("fullObservation"))
        self.hooks = request.get("hooks") or {}
        self.artifacts = request.get("artifacts") or {}
        self.shipped_uv = request.get("uv")
        self.output = []
        self.measured = {}

    def start_step(self):
        """A new step: nothing said, nothing measured yet."""
        self.output = []
        self.measured = {}

    def say(self, text):
        self.output.append(text)

    def spec(self, slot):
        return self.slots[slot]["spec"]

    def fingerprint(self, slot):
        return self.slots[slot]["fingerprint"]

    def slot_link(self, slot):
        return os.path.join(self.slots_dir, slot)

    def slot_dir(self, slot):
        """The build of the slot the request asks for: named after its fingerprint, so an equal build is reused."""
        return os.path.join(self.slots_dir, "%s-%s" % (slot, self.fingerprint(slot)))

    def conf_path(self, slot):
        return os.path.join(self.supervisor_settings["include"], "%s-%s-%s.conf" % (self.app, self.env, slot))


def read_manifest(path):
    """The manifest of the build at `path`; None when it is missing or unreadable (a build cut short)."""
    try:
        with open(os.path.join(path, "manifest.json")) as handle:
            manifest = json_loads(handle.read())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def manifest_text(manifest):
    """A build's manifest.json: one line, keys sorted."""
    return json_dumps(manifest, sort_keys=True) + "\n"


class Part:
    """A collaborator of one request: reads the request's `Deployment` and says what it did into the current step's
    output. The shorthands keep each step's code as it reads on the host: `self.spec(slot)`, `self.say(text)`."""

    def __init__(self, deployment):
        self.deployment = deployment

    def say(self, text):
        self.deployment.say(text)

    def spec(self, slot):
        return self.deployment.spec(slot)

    def fingerprint(self, slot):
        return self.deployment.fingerprint(slot)

    def slot_link(self, slot):
        return self.deployment.slot_link(slot)

    def slot_dir(self, slot):
        return self.deployment.slot_dir(slot)

    @staticmethod
    def read_manifest(path):
        return read_manifest(path)
