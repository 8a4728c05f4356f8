"""The request checked whole before anything is done, so a malformed one changes nothing on the host."""
from agent_wire import STEP_ACTIONS, BadRequest, parse_duration
from agent_commands import command_words


# What a shipped file's name may hold: the characters of wheel and sdist names, never a folder or an option.
ARTIFACT_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+!")


def field(mapping, key, kinds, where, optional=False):
    """`mapping[key]`, checked to be one of `kinds`; a missing or mistyped field is a BadRequest naming it."""
    if not isinstance(mapping, dict):
        raise BadRequest("%s is not an object" % where)
    if key not in mapping or mapping[key] is None:
        if optional:
            return None
        raise BadRequest("%s has no %r" % (where, key))
    value = mapping[key]
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    # JSON true is not a number, though Python's bool is an int.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise BadRequest("%s.%s has the wrong type (%s)" % (where, key, type(value).__name__))
    return value


def duration_field(mapping, key, where):
    try:
        return parse_duration(field(mapping, key, str, where))
    except ValueError as error:
        raise BadRequest("%s.%s: %s" % (where, key, error))


def validate(request):
    """Checks the whole request before anything is done, so a malformed one changes nothing on the host.

    Names that become paths (slots, fingerprints) are checked to be plain words: they name folders."""
    field(request, "action", str, "request")
    epoch = field(request, "epoch", int, "request", optional=True)
    if epoch is not None and (type(epoch) is not int or not 0 <= epoch < 2 ** 63):
        raise BadRequest("request.epoch is not a whole number from 0 to 2^63-1")
    if request["action"] not in ("observe", "execute", "logs", "exec", "artifacts", "receive"):
        raise BadRequest("request.action %r is not observe, execute, logs, exec, artifacts or receive" % request["action"])
    shipped = field(request, "artifacts", dict, "request", optional=True) or {}
    for slot, artifacts in shipped.items():
        if slot not in ("A", "B") or not isinstance(artifacts, list):
            raise BadRequest("request.artifacts has %r" % (slot,))
        for index, artifact in enumerate(artifacts):
            check_artifact(artifact, "artifacts.%s[%d]" % (slot, index))
    check_shipped_uv(request)
    if request["action"] == "receive":
        for index, piece in enumerate(field(request, "receive", list, "request")):
            place = "receive[%d]" % index
            check_artifact(piece, place)
            offset = field(piece, "offset", int, place)
            if not 0 <= offset <= piece["size"]:
                raise BadRequest("%s.offset is outside the file" % place)
            field(piece, "data", str, place)
    if request["action"] == "logs":
        logs = field(request, "logs", dict, "request")
        for slot in field(logs, "slots", list, "logs"):
            if slot not in ("A", "B"):
                raise BadRequest("logs.slots has %r" % (slot,))
        if not all(isinstance(name, str) for name in field(logs, "programs", list, "logs")):
            raise BadRequest("logs.programs are not all names")
        field(logs, "lines", int, "logs")
        field(logs, "follow", bool, "logs")
    if request["action"] == "exec":
        command = field(request, "exec", dict, "request")
        if field(command, "slot", str, "exec") not in ("A", "B"):
            raise BadRequest("exec.slot %r is not A or B" % command["slot"])
        argv = field(command, "argv", list, "exec")
        if not argv or not all(isinstance(word, str) and "\0" not in word for word in argv):
            raise BadRequest("exec.argv must be a non-empty list of strings")
        field(command, "program", str, "exec", optional=True)
    for key in ("environment", "app"):
        field(request, key, str, "request")
    settings = field(request, "settings", dict, "request")
    field(settings, "root", str, "settings")
    supervisor = field(settings, "supervisor", dict, "settings")
    for key in ("include", "ctl"):
        field(supervisor, key, str, "settings.supervisor")
    nginx = field(settings, "nginx", dict, "settings")
    for key in ("upstream", "test", "reload"):
        field(nginx, key, str, "settings.nginx")
    command_words(supervisor["ctl"], "supervisor.ctl", settings["root"])
    for key in ("test", "reload"):
        command_words(nginx[key], "nginx." + key, settings["root"])
    field(nginx, "check", str, "settings.nginx", optional=True)
    health = field(request, "health", dict, "request")
    field(health, "retries", int, "health")
    duration_field(health, "interval", "health")
    field(request, "commit", str, "request", optional=True)
    field(request, "lockTimeoutSeconds", (int, float), "request", optional=True)
    field(request, "fullObservation", bool, "request", optional=True)
    slots = field(request, "slots", dict, "request")
    if not slots:
        raise BadRequest("request.slots is empty")
    for slot, entry in slots.items():
        where = "slots.%s" % slot
        if not slot.isalnum():
            raise BadRequest("slot name %r is not a plain word" % slot)
        fingerprint = field(entry, "fingerprint", str, where)
        if not fingerprint or any(c not in "0123456789abcdef" for c in fingerprint):
            raise BadRequest("%s.fingerprint %r is not lowercase hex" % (where, fingerprint))
        spec = field(entry, "spec", dict, where)
        where += ".spec"
        field(spec, "python", str, where)
        source = field(spec, "source", dict, where)
        if not isinstance(source.get("index"), str) and not isinstance(source.get("wheelhouse"), str) \
                and not isinstance(source.get("ship"), dict):
            raise BadRequest("%s.source has neither 'index', 'wheelhouse' nor 'ship'" % where)
        field(spec, "requirements", str, where)
        field(spec, "hashed", bool, where)
        programs = field(spec, "programs", list, where)
        for index, program in enumerate(programs):
            place = "%s.programs[%d]" % (where, index)
            for key in ("name", "supervisorName", "command"):
                field(program, key, str, place)
            field(program, "processes", int, place)
            ports = field(program, "ports", list, place)
            if not all(isinstance(port, int) and not isinstance(port, bool) for port in ports):
                raise BadRequest("%s.ports are not all numbers" % place)
            check = field(program, "health", dict, place, optional=True)
            if check is not None:
                field(check, "path", str, place + ".health")
                field(check, "status", int, place + ".health")
                duration_field(check, "timeout", place + ".health")
    if request["action"] == "execute":
        for index, step in enumerate(field(request, "steps", list, "request")):
            place = "steps[%d]" % index
            action = field(step, "action", str, place)
            if action not in STEP_ACTIONS:
                raise BadRequest("%s.action %r is not one of %s" % (place, action, ", ".join(STEP_ACTIONS)))
            if field(step, "slot", str, place) not in slots:
                raise BadRequest("%s.slot %r is not one of the request's slots" % (place, step["slot"]))


def check_artifact(artifact, where):
    """A shipped file's entry: a plain file name an installer reads, a SHA-256 in lowercase hex, a size."""
    name = field(artifact, "name", str, where)
    if not safe_artifact_name(name):
        raise BadRequest("%s.name %r is not a wheel's or an sdist's file name" % (where, name[:80]))
    if not is_sha256(field(artifact, "sha256", str, where)):
        raise BadRequest("%s.sha256 is not a SHA-256 in lowercase hex" % where)
    if field(artifact, "size", int, where) < 0:
        raise BadRequest("%s.size is negative" % where)


def safe_artifact_name(name):
    return (0 < len(name) <= 255 and name[0] not in ".-" and all(c in ARTIFACT_NAME_CHARACTERS for c in name)
            and name.lower().endswith((".whl", ".tar.gz", ".zip")))


def is_sha256(text):
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def check_shipped_uv(request):
    """`uv` of a request: uv's wheel, an artifact entry named `uv-<version>-...whl`."""
    uv = field(request, "uv", dict, "request", optional=True)
    if uv is None:
        return
    check_artifact(uv, "uv")
    if not (uv["name"].startswith("uv-") and uv["name"].endswith(".whl")):
        raise BadRequest("uv.name %r is not a uv wheel's file name" % uv["name"][:80])
