"""The host agent's wire: the protocol's constants, its reply and step codes, the two failures a request can meet,
and JSON and durations read without the heavy modules.

Reply codes (`code` of the reply), mirrored by the Swift side from REPLY_CODES (a `logs` or `exec` request that
fails before it becomes its command answers with the step code instead):
    protocol     the request is not protocol 2
    badRequest   the request is malformed: a missing key, a wrong type, an unknown step or slot, a bad duration
    locked       another Pinwheel run held the host's lock past `lockTimeoutSeconds`
    stepFailed   a step failed; the failed step (the last one in `steps`) has its own code
    unsafeRoot   the deploy root (or a folder of it) is owned by another user or writable by others: nothing is done
    fenced       the request's lease epoch is below the highest this host has seen for the environment: a controller
                 that lost its lease (paused, partitioned) can no longer change the host; nothing is done
    internal     the agent itself failed outside any step (a bug, or a host it cannot read)

Step codes (`code` of a step result), mirrored by the Swift side from STEP_CODES:
    install      creating the virtualenv or installing the pins failed
    envFile      a program's `envFile` does not exist on the host
    supervisor   supervisord could not load the new program config
    health       the slot did not pass its health check within the retries
    notPrepared  the slot is not built as the request specifies (no manifest, or another fingerprint)
    notReady     verify: the slot is prepared, but a process is not running or a web process does not answer
    notServed    verify: the slot is prepared and healthy but has never served traffic on this host, so switching
                 to it would be a first exposure (a release, paced by the policy), not a rollback
    nginxTest    `nginx.test` rejected the new upstream file (the previous file is back)
    nginxReload  `nginx.reload` failed (the previous file is back)
    nginxVerify  `nginx.check` did not answer from the new slot after the reload (switched back)
    exec         `pinwheel exec`: the command could not be started
    hook         a release hook (prepare, beforeSwitch, afterSwitch) exited non-zero or ran past its timeout
    diskFull     the host's disk is full (an install or a write found no space): the host's fault, not the release's
    internal     an unexpected exception inside the step

A failed step's `error` is Pinwheel's diagnosis in one line (the step, the exit status, the health answer): the
controller may record it in git. What the host printed about it (a command's output, a program's last log lines) is
its `detail`, which stays out of git. A `route` step that verified through nginx says how long that took as
`nginxVerifySeconds`.
"""
try:
    import _json
except ImportError:  # an interpreter without CPython's C modules: the public module, at its cost
    _json = None


PROTOCOL = 2
MARKER = "PINWHEEL-RESULT "
STEP_ACTIONS = ("prepare", "start", "check", "route", "verify", "beforeSwitch", "afterSwitch")
STEP_CODES = ("install", "envFile", "exec", "supervisor", "health", "notPrepared", "notReady", "notServed", "nginxTest",
              "nginxReload", "nginxVerify", "hook", "diskFull", "internal")
REPLY_CODES = ("protocol", "badRequest", "locked", "unsafeRoot", "fenced", "stepFailed", "internal")


class StepFailed(Exception):
    """A step could not be carried out; `code` is one of STEP_CODES and the message says what a person can do.

    The message's first line is the diagnosis (`diagnosis`); the lines after it are what the host printed (`detail`)."""

    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        first, _, rest = message.partition("\n")
        self.diagnosis = first.rstrip(":").rstrip()
        self.detail = rest.strip("\n") or None


class BadRequest(Exception):
    """The request does not have the shape of protocol 2: answered with code `badRequest`, nothing is done."""


DURATION_UNITS = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0))


def parse_duration(text):
    """Seconds (float) of a duration written as in the config: `500ms`, `2s`, `1.5s`, `1m`, `1h`.

    Parsed by hand rather than with `re`, which observing would otherwise import on every host."""
    if isinstance(text, str):
        for unit, seconds in DURATION_UNITS:
            number = text[:-len(unit)]
            if (text.endswith(unit) and number and number.count(".") <= 1
                    and any(c.isdigit() for c in number) and all(c in "0123456789." for c in number)):
                return float(number) * seconds
    raise ValueError("%r is not a duration (write e.g. 500ms, 2s, 1.5s, 1m, 1h)" % (text,))


class _DecodeContext:
    """What `_json.make_scanner` reads from a decoder: the defaults of `json.loads`."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = None

    @staticmethod
    def parse_constant(name):
        return float(name)  # NaN, Infinity, -Infinity, as json.loads reads them


def json_loads(text):
    """`json.loads(text)` through json's C scanner, without importing `json` (and with it `re` and `enum`)."""
    if _json is None:
        import json
        return json.loads(text)
    text = text.strip(" \t\n\r")
    try:
        value, end = _json.make_scanner(_DecodeContext())(text, 0)
    except StopIteration:
        raise ValueError("not JSON: %r" % text[:40])
    if end != len(text):
        raise ValueError("not JSON: extra data at character %d" % end)
    return value


def json_dumps(value, sort_keys=False):
    """`json.dumps(value, sort_keys=sort_keys)` (ASCII, the default separators) through json's C encoder."""
    if _json is None:
        import json
        return json.dumps(value, sort_keys=sort_keys)

    def unknown(thing):
        raise TypeError("%s is not JSON serializable" % type(thing).__name__)

    encode = _json.make_encoder({}, unknown, _json.encode_basestring_ascii, None, ": ", ", ", sort_keys, False, True)
    return "".join(encode(value, 0))
