"""Pinwheel's host agent, protocol 2.

Sent over SSH (or run locally) with its request and run as `python3 -I -S`; the Swift side embeds this file in the
pinwheel binary, and its loader calls `main(REQUEST)` with the base64 of the request JSON. The agent answers with
one line, `PINWHEEL-RESULT <reply JSON>`, on standard output.

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
import _thread
import binascii
import fcntl
import os
import sys
import time

try:
    import _json
    import _socket
except ImportError:  # an interpreter without CPython's C modules: the public modules, at their cost
    _json = None
    _socket = None

PROTOCOL = 2
MARKER = "PINWHEEL-RESULT "
STEP_ACTIONS = ("prepare", "start", "check", "route", "verify", "beforeSwitch", "afterSwitch")
# What a shipped file's name may hold: the characters of wheel and sdist names, never a folder or an option.
ARTIFACT_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+!")
# The last lines of a hook's output kept for the report and the status.
HOOK_OUTPUT_LINES = 20
STEP_CODES = ("install", "envFile", "exec", "supervisor", "health", "notPrepared", "notReady", "notServed", "nginxTest",
              "nginxReload", "nginxVerify", "hook", "diskFull", "internal")
REPLY_CODES = ("protocol", "badRequest", "locked", "unsafeRoot", "fenced", "stepFailed", "internal")
DEFAULT_LOCK_TIMEOUT_SECONDS = 600
# What pip, uv and the C library print when a write finds no space (ENOSPC): the host's fault, not the release's.
DISK_FULL = "No space left on device"
ENOSPC = 28  # errno.ENOSPC on Linux, without importing errno
# After a switch, `nginx.check` is asked up to this many times, 20 ms apart (about five seconds when nginx answers).
ROUTE_VERIFY_ATTEMPTS = 250
# What a step saw of supervisord and the web processes is reused by the observation that ends the request while
# nothing changed the processes since and it is at most this old.
SEEN_FOR_SECONDS = 2.0
# A process counts as started before its build only by more than this (both in seconds since boot, a process's in
# clock ticks).
STALE_TOLERANCE_SECONDS = 0.5
# A venv with more Python files than this is compiled by a worker process per core.
COMPILE_IN_WORKERS_FROM = 300
# While a new slot starts, its web processes are asked this often (seconds) at most, not once per `interval`.
FIRST_CHECKS_PAUSE = 0.1
# The folders the agent takes the host's own programs from (runuser, tail, rm, sudo, supervisorctl, nginx): the
# system's, never the session's PATH, where a slot's bin/ or a relative folder could come first.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# What each configured command may run, after an optional `sudo` (`-n`): never a shell, never an interpreter.
COMMAND_PROGRAMS = {"supervisor.ctl": ("supervisorctl",), "nginx.test": ("nginx", "systemctl", "service"),
                    "nginx.reload": ("nginx", "systemctl", "service")}
# The characters of a configured command's words: nothing a shell or an option parser could read twice.
COMMAND_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/+@,=:-")
# The variables of the session that never reach an installer: each can add an index, a config file or a proxy.
INSTALL_VARIABLE_PREFIXES = ("PIP_", "UV_", "PYTHON", "VIRTUAL_ENV", "CONDA_", "PYENV", "PDM_", "POETRY_")


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


def connect(host, port, timeout):
    """A TCP connection, as `socket.create_connection` makes it, from the C module (`socket` imports `enum`)."""
    if _socket is None:
        import socket
        return socket.create_connection((host, port), timeout=timeout)
    try:
        name = host.encode("ascii")  # a str host would go through the idna codec (and import unicodedata)
    except UnicodeError:
        import socket
        return socket.create_connection((host, port), timeout=timeout)
    error = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        connection = _socket.socket(family, kind, proto)
        try:
            connection.settimeout(timeout)
            connection.connect(address)
            return connection
        except OSError as failure:
            connection.close()
            error = failure
    raise error or OSError("cannot resolve %s" % host)


def connect_unix(path, timeout):
    """A connection to a unix socket (supervisord's)."""
    if _socket is None:
        import socket
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        connection.settimeout(timeout)
        connection.connect(path)
    except OSError:
        connection.close()
        raise
    return connection


def run_together(calls):
    """The results of the calls, each run on its own thread (`_thread`: `threading` imports `collections`)."""
    results = [None] * len(calls)
    done = _thread.allocate_lock()
    left = [len(calls)]
    counting = _thread.allocate_lock()
    if calls:
        done.acquire()

    def run(index):
        try:
            results[index] = calls[index]()
        except BaseException as error:  # the caller sees it as the call's result, never a thread dying silently
            results[index] = error
        finally:
            with counting:
                left[0] -= 1
                if left[0] == 0:
                    done.release()

    for index in range(len(calls)):
        _thread.start_new_thread(run, (index,))
    if calls:
        done.acquire()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def system_program(name):
    """The absolute path of the host's program `name` in SYSTEM_PATH; None when it has none."""
    for folder in SYSTEM_PATH:
        path = folder + "/" + name
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def inside(path, folder):
    """Whether `path` is `folder` or lies inside it (both absolute, compared as written and with links resolved)."""
    for candidate, base in ((path, folder), (os.path.realpath(path), os.path.realpath(folder))):
        base = base.rstrip("/")
        if not base or candidate == base or candidate.startswith(base + "/"):
            return True
    return False


def command_program(word):
    """The program a command's word names: a bare name, or an absolute path in SYSTEM_PATH (its name); else None."""
    if "/" not in word:
        return word
    folder, _, name = word.rpartition("/")
    return name if folder in SYSTEM_PATH else None


def command_words(command, what, root):
    """The argument vector of the configured command `what` (`supervisor.ctl`, `nginx.test`, `nginx.reload`): words
    of plain characters separated by spaces, an optional `sudo` (with `-n`), then a program COMMAND_PROGRAMS allows
    for it, and no word naming a path inside the deploy root `root` (where packages, which anyone who can commit
    chooses, put files). `supervisor.ctl` may only add `-c FILE` and `-s URL`. Raises BadRequest saying what is wrong;
    the Swift side checks the same before a request is sent."""
    words = [word for word in command.split(" ") if word]
    if not words:
        raise BadRequest("%s is empty" % what)
    for word in words:
        if any(character not in COMMAND_CHARACTERS for character in word):
            raise BadRequest("%s: %r is not a plain word (letters, digits and ._/+@,=:-); the command is never given "
                             "to a shell" % (what, word))
        path = word.split("=", 1)[-1]
        if path.startswith("/") and (".." in path.split("/") or inside(path, root)):
            raise BadRequest("%s: %s lies inside the deploy root %s, whose files packages choose" % (what, path, root))
    index = 0
    if command_program(words[0]) == "sudo":
        index = 1
        while index < len(words) and words[index] in ("-n", "--non-interactive"):
            index += 1
    allowed = COMMAND_PROGRAMS[what]
    if index >= len(words) or command_program(words[index]) not in allowed:
        raise BadRequest("%s must run %s (optionally after `sudo -n`), found %r" % (
            what, " or ".join(allowed), words[index] if index < len(words) else command))
    if what == "supervisor.ctl":
        rest = words[index + 1:]
        while rest:
            if rest[0] in ("-c", "-s") and len(rest) > 1:
                rest = rest[2:]
            elif rest[0].startswith(("--configuration=", "--serverurl=")):
                rest = rest[1:]
            else:
                raise BadRequest("supervisor.ctl may only give supervisorctl `-c FILE` and `-s URL`, found %r" % rest[0])
    return words


def resolved_command(words, code):
    """`words` (checked by `command_words`) with `sudo` and the program replaced by their absolute paths."""
    argv = list(words)
    index = 0
    while True:
        name = command_program(argv[index])
        path = system_program(name)
        if path is None:
            raise StepFailed(code, "%s is not installed on this host (looked in %s)" % (name, ":".join(SYSTEM_PATH)))
        argv[index] = path
        if name != "sudo":
            return argv
        index += 1
        while argv[index].startswith("-"):
            index += 1


def root_problem(root, environment):
    """Why the deploy root may not be used, or None: the root, its `.pinwheel` (the cached agent) and the
    environment's folders must each be owned by the SSH user (or root) and writable by nobody else, or whoever can
    write there could change the agent Pinwheel runs and the builds it serves (an app user who owns the root becomes
    the SSH user). Folders that do not exist yet are made by the agent."""
    me = os.geteuid()
    for path in (root, os.path.join(root, ".pinwheel"), os.path.join(root, environment),
                 os.path.join(root, environment, "slots")):
        try:
            status = os.stat(path) if path == root else os.lstat(path)
        except FileNotFoundError:
            continue
        kind = status.st_mode & 0o170000
        if kind != 0o040000:
            return "%s is not a folder (a link or a file); remove it and let Pinwheel make it" % path
        if status.st_uid not in (me, 0):
            return ("%s is owned by user id %d, not by the SSH user (%d) or root: whoever owns it could change the agent "
                    "Pinwheel runs and the builds it serves, so nothing was done; chown it to the SSH user" % (
                        path, status.st_uid, me))
        if status.st_mode & 0o022:
            return ("%s is writable by its group or others (mode %o): they could change the agent Pinwheel runs and the "
                    "builds it serves, so nothing was done; chmod go-w %s" % (path, status.st_mode & 0o7777, path))
    return None


def install_environment():
    """The environment the installers (uv, pip, venv) run in: the session's, without a variable that could add an
    index, a config file or an interpreter (INSTALL_VARIABLE_PREFIXES), and with every pip and uv configuration file
    turned off, so the only index is the one the config names (a host's extra index is a dependency-confusion hole)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(INSTALL_VARIABLE_PREFIXES)}
    environment.update({"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                        "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never", "PYTHONNOUSERSITE": "1"})
    return environment


def manifest_text(manifest):
    """A build's manifest.json: one line, keys sorted."""
    return json_dumps(manifest, sort_keys=True) + "\n"


def utc_now():
    """Now, as the manifests record moments: `2026-11-24T03:14:02Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def http_get(url, timeout):
    """A GET over a plain socket: (status, lower-cased headers). Only http:// URLs, as the config allows."""
    if not url.startswith("http://"):
        raise ValueError("only http:// is checked from the host")
    rest = url[len("http://"):]
    authority, _, path = rest.partition("/")
    if authority.startswith("["):
        host, _, port = authority[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = authority.partition(":")
    connection = connect(host, int(port or 80), timeout)
    try:
        connection.sendall(("GET /%s HTTP/1.0\r\nHost: %s\r\nUser-Agent: pinwheel\r\nConnection: close\r\n\r\n"
                            % (path, authority)).encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        connection.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError("no HTTP answer")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


class XMLRPC:
    """Just enough XML-RPC for supervisord, over its unix socket or TCP, without importing xmlrpc.client."""

    def __init__(self, path=None, address=None):
        self.path = path
        self.address = address

    @staticmethod
    def escape(text):
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def encode(self, value):
        if isinstance(value, bool):
            return "<value><boolean>%d</boolean></value>" % value
        if isinstance(value, int):
            return "<value><int>%d</int></value>" % value
        return "<value><string>%s</string></value>" % self.escape(str(value))

    def call(self, method, *params):
        body = ("<?xml version='1.0'?><methodCall><methodName>%s</methodName><params>%s</params></methodCall>" % (
            method, "".join("<param>%s</param>" % self.encode(p) for p in params))).encode("utf-8")
        if self.path:
            connection = connect_unix(self.path, 60)
        else:
            connection = connect(self.address[0], self.address[1], 60)
        try:
            connection.sendall(b"POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: "
                               + str(len(body)).encode() + b"\r\n\r\n" + body)
            chunks = []
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            connection.close()
        data = b"".join(chunks)
        head, _, payload = data.partition(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError("supervisord answered " + head.split(b"\r\n", 1)[0].decode("latin-1"))
        return self.decode(payload)

    def decode(self, payload):
        import xml.parsers.expat
        stack = [[]]
        text = []
        fault = [False]

        def start(name, attributes):
            if name in ("array", "struct", "data"):
                stack.append([])
            elif name == "fault":
                fault[0] = True
            del text[:]

        def end(name):
            content = "".join(text)
            del text[:]
            if name in ("string", "name"):
                stack[-1].append(content)
            elif name in ("int", "i4"):
                stack[-1].append(int(content))
            elif name == "boolean":
                stack[-1].append(content.strip() == "1")
            elif name == "double":
                stack[-1].append(float(content))
            elif name == "array":
                items = stack.pop()
                stack[-1].append(items[0] if items and isinstance(items[0], list) and len(items) == 1 else items)
            elif name == "data":
                items = stack.pop()
                stack[-1].append(items)
            elif name == "struct":
                items = stack.pop()
                stack[-1].append(dict(zip(items[0::2], items[1::2])))

        parser = xml.parsers.expat.ParserCreate()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text.append
        parser.Parse(payload, True)
        result = stack[0][0] if stack[0] else None
        if fault[0]:
            raise RuntimeError("supervisord fault: %s" % (result.get("faultString") if isinstance(result, dict) else result))
        return result


class Supervisor:
    """Talks to supervisord over its XML-RPC socket when the `ctl` command lets us find it (no process to start:
    each supervisorctl costs ~0.2 s of CPU), and through `supervisorctl` otherwise: the `ctl` argument vector in a
    request that changes something, the fixed `supervisorctl [-c FILE] [-s URL] status` when `read_only`
    (observing runs no command the config chose: no `sudo`, nothing but `status`)."""

    def __init__(self, ctl, cache_dir=None, read_only=False):
        self.ctl_words = [word for word in ctl.split(" ") if word]
        self.read_only = read_only
        self.proxy = None
        # Counts the calls that change processes, so what was seen before one of them is not reused after it.
        self.generation = 0
        self.starting = {}
        # When each process of a group started (seconds since boot; None when not running or not known).
        self.started = {}
        # How long a stop may take before a group is replaced anyway: the longest stopTimeout, and a margin.
        self.stop_wait = 30
        # The first call tells whether the socket answers (no separate round trip to ask): a connection that fails
        # falls back to the `ctl` command for the rest of the request.
        try:
            url = self.server_url(ctl, cache_dir)
            if url:
                self.proxy = self.connect(url)
        except Exception:
            self.proxy = None

    @staticmethod
    def server_url(ctl, cache_dir=None):
        """Where supervisord answers XML-RPC, from the `ctl` command's options or the config file it reads; None when
        only the `ctl` command can reach it (a login, another program). What a config file says is kept in
        `cache_dir` while the file is unchanged: reading it imports configparser (and `re`) on every request."""
        words = [word for word in ctl.split(" ") if word]
        while words and os.path.basename(words[0]) != "supervisorctl":
            words = words[1:]  # `sudo -n`: the socket is tried all the same
        if not words:
            return None
        config, url = None, None
        index = 1
        while index < len(words):
            word = words[index]
            if word in ("-c", "--configuration") and index + 1 < len(words):
                config = words[index + 1]
                index += 1
            elif word.startswith("--configuration="):
                config = word.split("=", 1)[1]
            elif word in ("-s", "--serverurl") and index + 1 < len(words):
                url = words[index + 1]
                index += 1
            elif word in ("-u", "--username", "-p", "--password", "-r", "--history-file"):
                return None
            index += 1
        if url:
            return url
        candidates = [config] if config else ["/etc/supervisor/supervisord.conf", "/etc/supervisord.conf"]
        for path in candidates:
            try:
                found = Supervisor.cached_config_url(path, cache_dir)
            except Exception:
                continue
            if found is not None:
                return found or None
        return None

    @staticmethod
    def config_url(path):
        """What supervisord's config file says of reaching it: its server URL; "" when supervisorctl logs in (the
        `ctl` command is used); None when the file is missing or says neither."""
        import configparser
        parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
        parser.read(path)
        if parser.has_option("supervisorctl", "username"):
            return ""
        if parser.has_option("supervisorctl", "serverurl"):
            return parser.get("supervisorctl", "serverurl").strip()
        if parser.has_option("unix_http_server", "file"):
            return "unix://" + parser.get("unix_http_server", "file").strip()
        return None

    @staticmethod
    def cached_config_url(path, cache_dir):
        """`config_url(path)`, kept in `cache_dir` under the file's size and modification time."""
        try:
            status = os.stat(path)
        except OSError:
            return None
        if cache_dir is None:
            return Supervisor.config_url(path)
        key = "%s %d %d" % (path, status.st_mtime_ns, status.st_size)
        cache = os.path.join(cache_dir, "supervisord-%08x.json" % binascii.crc32(os.fsencode(path)))
        try:
            with open(cache) as handle:
                stored = json_loads(handle.read())
            if stored["key"] == key:
                return stored["url"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        url = Supervisor.config_url(path)
        try:
            write_atomically(cache, json_dumps({"key": key, "url": url}))
        except OSError:
            pass
        return url

    @staticmethod
    def connect(url):
        if url.startswith("unix://"):
            return XMLRPC(path=url[len("unix://"):])
        if url.startswith("http://"):
            host, _, port = url[len("http://"):].rstrip("/").partition(":")
            return XMLRPC(address=(host, int(port or 80)))
        return None

    def options(self):
        """The `-c FILE` and `-s URL` of the `ctl` command, as they were written."""
        words = self.ctl_words
        while words and os.path.basename(words[0]) != "supervisorctl":
            words = words[1:]
        return words[1:]

    def ctl(self, *words):
        """Runs `supervisorctl` with `words`: the configured argument vector, or, when read-only, the fixed one (for
        `status` only). Never through a shell."""
        if self.read_only:
            if words != ("status",):
                raise StepFailed("supervisor", "supervisorctl %s: this request only observes" % " ".join(words))
            argv = [system_program("supervisorctl") or "supervisorctl"] + self.options() + ["status"]
        else:
            argv = resolved_command(self.ctl_words, "supervisor") + list(words)
        try:
            return run_command(argv, 120)
        except OSError as error:
            return 127, "cannot run %s: %s" % (argv[0], error)

    def states(self):
        """Process states by group name, and a problem when supervisord cannot be asked.

        Also keeps, in `starting`, how long each STARTING process of a group has been up, in seconds, or None when
        that cannot be known (XML-RPC only): supervisord calls a process RUNNING only on the first tick of its loop
        after `startsecs`, which can be a second later."""
        states = {}
        self.starting = {}
        self.started = {}
        if self.proxy is not None:
            try:
                now = uptime()
                for info in self.proxy.call("supervisor.getAllProcessInfo"):
                    states.setdefault(info["group"], []).append(info["statename"])
                    start = process_start(info["pid"]) if info["statename"] in ("RUNNING", "STARTING") else None
                    self.started.setdefault(info["group"], []).append(start)
                    if info["statename"] == "STARTING":
                        self.starting.setdefault(info["group"], []).append(
                            None if start is None or now is None else now - start)
                return states, None
            except OSError:
                self.proxy = None
            except Exception as error:
                return {}, "supervisord: %s" % error
        code, text = self.ctl("status")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isupper() and parts[1].isalpha():
                states.setdefault(parts[0].split(":", 1)[0], []).append(parts[1])
        if not states and code not in (0, 3):
            return {}, "supervisorctl: " + text.strip()[-500:]
        return states, None

    def update(self):
        """What `supervisorctl update` does: reread the config, add, change and remove groups."""
        self.generation += 1
        reloaded = None
        if self.proxy is not None:
            try:
                reloaded = self.proxy.call("supervisor.reloadConfig")[0]
            except OSError:
                self.proxy = None
            except Exception as error:
                raise StepFailed("supervisor", "supervisord could not load the new config: %s" % error)
        if self.proxy is None:
            code, text = self.ctl("update")
            if code != 0:
                raise StepFailed("supervisor", "supervisorctl update failed:\n" + text.strip())
            return
        try:
            added, changed, removed = reloaded
            # Stop every outgoing group at once and wait for all of them, instead of one `wait=True` stop per group,
            # each of which costs a tick of supervisord's one-second loop.
            stopping = set(removed + changed)
            for group in stopping:
                try:
                    self.proxy.call("supervisor.stopProcessGroup", group, False)
                except Exception:
                    pass
            deadline = time.time() + self.stop_wait
            while stopping and time.time() < deadline:
                busy = [info for info in self.proxy.call("supervisor.getAllProcessInfo")
                        if info["group"] in stopping and info["statename"] in ("RUNNING", "STARTING", "STOPPING", "BACKOFF")]
                if not busy:
                    break
                time.sleep(0.05)
            for group in stopping:
                self.proxy.call("supervisor.removeProcessGroup", group)
            for group in added + changed:
                self.proxy.call("supervisor.addProcessGroup", group)
        except Exception as error:
            raise StepFailed("supervisor", "supervisord could not load the new config: %s" % error)

    def restart_group(self, group):
        """Stops the group's processes (letting them drain) and starts them again with the config supervisord has."""
        self.generation += 1
        if self.proxy is None:
            code, text = self.ctl("restart", group + ":*")
            return text.strip() if code != 0 else None
        try:
            self.proxy.call("supervisor.stopProcessGroup", group, True)
        except Exception:
            pass
        return self.start_group(group)

    def start_group(self, group):
        self.generation += 1
        if self.proxy is None:
            code, text = self.ctl("start", group + ":*")
            return text.strip() if code != 0 and "already started" not in text else None
        try:
            self.proxy.call("supervisor.startProcessGroup", group, False)
            return None
        except OSError:
            self.proxy = None
            return self.start_group(group)
        except Exception as error:
            return str(error)


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


def new_sha256():
    try:
        from _sha2 import sha256
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256()


class ArtifactStore:
    """The files the controller ships (`source: {ship: ...}`), named by their SHA-256 in `<root>/.pinwheel/artifacts`.

    A file arrives into `<sha256>.partial` (created with an exclusive, no-follow open; later pieces are appended only
    when the partial file is the SSH user's own regular file of exactly the size the piece continues), and is renamed
    to its hash only when the whole file hashes to it. An interrupted transfer leaves the partial file, which the next
    transfer continues from its size. Every file is checked again by hash before a build uses it."""

    def __init__(self, root):
        self.folder = os.path.join(root, ".pinwheel", "artifacts")

    def ensure(self):
        for folder in (os.path.dirname(self.folder), self.folder):
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                pass
            status = os.lstat(folder)
            if status.st_mode & 0o170000 != 0o040000 or status.st_uid != os.geteuid() or status.st_mode & 0o022:
                raise StepFailed("install", "%s is not a folder of the SSH user's own that only it may write; remove it "
                                 "and apply again" % folder)

    def path(self, sha256):
        return os.path.join(self.folder, sha256)

    @staticmethod
    def owned_file(status):
        return status.st_mode & 0o170000 == 0o100000 and status.st_uid == os.geteuid()

    def size_of(self, path):
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            return None
        return status.st_size if self.owned_file(status) else None

    def missing(self, artifacts):
        """The files the store lacks: [{"sha256", "have"}], `have` the bytes of its partial file (0 for none)."""
        self.ensure()
        result = []
        seen = set()
        for artifact in artifacts:
            if artifact["sha256"] in seen or self.size_of(self.path(artifact["sha256"])) == artifact["size"]:
                continue
            seen.add(artifact["sha256"])
            have = self.size_of(self.path(artifact["sha256"]) + ".partial") or 0
            result.append({"sha256": artifact["sha256"], "have": have if have <= artifact["size"] else 0})
        return result

    def receive(self, pieces):
        """Appends each piece to its partial file and names each complete file by its hash once it matches it."""
        self.ensure()
        for piece in pieces:
            sha256, name, size, offset = piece["sha256"], piece["name"], piece["size"], piece["offset"]
            data = binascii.a2b_base64(piece["data"])
            partial = self.path(sha256) + ".partial"
            if offset == 0 and os.path.lexists(partial):
                os.unlink(partial)
            flags = os.O_WRONLY | os.O_NOFOLLOW | (os.O_CREAT | os.O_EXCL if offset == 0 else os.O_APPEND)
            try:
                handle = os.open(partial, flags, 0o600)
            except OSError as error:
                raise StepFailed("install", "%s: cannot write %s: %s; it is sent again at the next apply" % (
                    name, partial, error.strerror))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                status = os.fstat(handle)
                if not self.owned_file(status) or status.st_size != offset:
                    os.unlink(partial)
                    raise StepFailed("install", "%s: the host's partial file changed while it was sent (%d bytes, "
                                     "expected %d); it is sent again from the start at the next apply" % (
                                         name, status.st_size, offset))
                if offset + len(data) > size:
                    os.unlink(partial)
                    raise StepFailed("install", "%s: more bytes arrived than its size %d" % (name, size))
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view):]
            finally:
                os.close(handle)
            if offset + len(data) == size:
                actual = self.hash_of(partial)
                if actual != sha256:
                    os.unlink(partial)
                    raise StepFailed("install", "%s: the file received hashes to %s, not the lock's %s; it was removed "
                                     "and nothing of it was used" % (name, actual, sha256))
                os.replace(partial, self.path(sha256))

    @staticmethod
    def hash_of(path):
        digest = new_sha256()
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            while True:
                chunk = os.read(handle, 1 << 20)
                if not chunk:
                    return digest.hexdigest()
                digest.update(chunk)
        finally:
            os.close(handle)

    def checked(self, slot, artifact):
        """The path of a complete file, checked by its hash right before use; a file that no longer matches is removed
        (the next apply ships it again) and the prepare fails naming it."""
        path = self.path(artifact["sha256"])
        if self.size_of(path) is None:
            raise StepFailed("install", "slot %s: %s (sha256:%s) is not on the host; the controller ships it at the "
                             "next apply" % (slot, artifact["name"], artifact["sha256"]))
        actual = self.hash_of(path)
        if actual != artifact["sha256"]:
            os.unlink(path)
            raise StepFailed("install", "slot %s: the host's copy of %s hashes to %s, not the lock's %s; it was removed "
                             "and is shipped again at the next apply" % (slot, artifact["name"], actual, artifact["sha256"]))
        return path


# ---- the host's platform and a shipped uv (`source: {ship: {uv: ...}}`) ---------------------------------------------


def host_platform():
    """What the controller needs to ship this host only what it can install: the machine (`uname -m`), the C library
    (`glibc` with its version, or `musl`), and whether the host has a uv of its own (it keeps using it). Cheap: no
    process is started."""
    libc = version = None
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        found = ""
    if found.startswith("glibc "):
        libc, version = "glibc", found.split(" ", 1)[1]
    else:
        try:
            libc = "musl" if any(name.startswith("ld-musl-") for name in os.listdir("/lib")) else None
        except OSError:
            pass
    return {"machine": os.uname().machine, "libc": libc, "libcVersion": version, "uv": Agent.installer() is not None}


def check_shipped_uv(request):
    """`uv` of a request: uv's wheel, an artifact entry named `uv-<version>-...whl`."""
    uv = field(request, "uv", dict, "request", optional=True)
    if uv is None:
        return
    check_artifact(uv, "uv")
    if not (uv["name"].startswith("uv-") and uv["name"].endswith(".whl")):
        raise BadRequest("uv.name %r is not a uv wheel's file name" % uv["name"][:80])


class ShippedUV:
    """The uv binary of a wheel the controller shipped: unpacked once, next to the wheel in the artifact store, as
    `<sha256>.uv` (the wheel's hash, checked first; the binary's own hash checked against the wheel's RECORD; written
    with an exclusive, no-follow open, mode 700, and renamed into place only when whole). A binary already there is
    used when it is the SSH user's own file that no one else may write."""

    LIMIT = 256 << 20

    def __init__(self, root):
        self.store = ArtifactStore(root)

    def binary(self, slot, artifact):
        self.store.ensure()
        path = self.store.path(artifact["sha256"]) + ".uv"
        try:
            status = os.lstat(path)
            if ArtifactStore.owned_file(status) and not status.st_mode & 0o022 and status.st_mode & 0o100:
                return path
            os.unlink(path)
        except FileNotFoundError:
            pass
        wheel = self.store.checked(slot, artifact)
        import zipfile
        try:
            with zipfile.ZipFile(wheel) as archive:
                members = [info for info in archive.infolist() if info.filename.endswith(".data/scripts/uv")
                           and info.filename.count("/") == 2 and info.filename.startswith("uv-")]
                records = [info for info in archive.infolist() if info.filename.endswith(".dist-info/RECORD")]
                if len(members) != 1 or len(records) != 1 or members[0].file_size > self.LIMIT:
                    raise StepFailed("install", "%s holds no single uv binary; ship a uv wheel from PyPI" % artifact["name"])
                record = archive.read(records[0]).decode("utf-8", "replace")
                data = archive.read(members[0])
        except (OSError, zipfile.BadZipFile) as error:
            raise StepFailed("install", "%s: cannot unpack uv: %s" % (artifact["name"], error))
        expected = None
        for line in record.splitlines():
            parts = line.rsplit(",", 2)
            if len(parts) == 3 and parts[0] == members[0].filename and parts[1].startswith("sha256="):
                expected = parts[1][len("sha256="):]
        digest = new_sha256()
        digest.update(data)
        actual = binascii.b2a_base64(digest.digest()).decode().strip().rstrip("=").replace("+", "-").replace("/", "_")
        if actual != expected:
            raise StepFailed("install", "%s: its uv binary does not match the wheel's RECORD; nothing of it was used" %
                             artifact["name"])
        temporary = "%s.%d" % (path, os.getpid())
        if os.path.lexists(temporary):
            os.unlink(temporary)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o700)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            os.fchmod(handle, 0o700)
        finally:
            os.close(handle)
        os.replace(temporary, path)
        return path


class Agent:
    """Carries out one request's steps on this host and observes it; decides nothing."""

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
        self.lock_timeout = request.get("lockTimeoutSeconds") or DEFAULT_LOCK_TIMEOUT_SECONDS
        self.full_observation = bool(request.get("fullObservation"))
        self.hooks = request.get("hooks") or {}
        self.artifacts = request.get("artifacts") or {}
        self.shipped_uv = request.get("uv")
        self.output = []
        self.measured = {}
        self.supervisord = Supervisor(self.supervisor_settings["ctl"], os.path.join(settings["root"], ".pinwheel"),
                                      read_only=request["action"] != "execute")
        self.supervisord.stop_wait = 5 + max([30] + [stop_wait_seconds(settings_of(program)) for slot in self.slots
                                                      for program in self.spec(slot)["programs"]])
        # What slot_problems saw (supervisord's generation, when, what), for the observation that ends the request.
        self.states_seen = None
        self.web_seen = {}

    # ---- helpers -------------------------------------------------------------------------------------

    def say(self, text):
        self.output.append(text)

    def spec(self, slot):
        return self.slots[slot]["spec"]

    def fingerprint(self, slot):
        return self.slots[slot]["fingerprint"]

    def command(self, what, code, timeout=120):
        """Runs the configured command `what` (`nginx.test`, `nginx.reload`) as its argument vector, no shell."""
        key = what.split(".", 1)[1]
        argv = resolved_command(command_words(self.nginx[key], what, self.root), code)
        try:
            return run_command(argv, timeout)
        except OSError as error:
            return 127, "cannot run %s: %s" % (argv[0], error)

    def run(self, argv, timeout=600):
        """Runs an installer (uv, pip, venv) with arguments, no shell, isolated from the host's pip and uv settings."""
        return run_command(argv, timeout, install_environment())

    def slot_link(self, slot):
        return os.path.join(self.slots_dir, slot)

    def slot_dir(self, slot):
        """The build of the slot the request asks for: named after its fingerprint, so an equal build is reused."""
        return os.path.join(self.slots_dir, "%s-%s" % (slot, self.fingerprint(slot)))

    def conf_path(self, slot):
        return os.path.join(self.supervisor_settings["include"], "%s-%s-%s.conf" % (self.app, self.env, slot))

    @staticmethod
    def read_manifest(path):
        """The manifest of the build at `path`; None when it is missing or unreadable (a build cut short)."""
        try:
            with open(os.path.join(path, "manifest.json")) as handle:
                manifest = json_loads(handle.read())
        except (OSError, ValueError):
            return None
        return manifest if isinstance(manifest, dict) else None

    def write_manifest(self, slot, target, installer):
        """Written last, so a build is only taken for complete when it has one."""
        manifest = {
            "fingerprint": self.fingerprint(slot),
            "build": self.slots[slot].get("build"),
            "pins": [line.split(" ", 1)[0] for line in self.spec(slot)["requirements"].splitlines() if line],
            "commit": self.commit,
            "preparedAt": utc_now(),
            "installer": installer,
            # The SHA-256 of each shipped file the build installed from (`source: {ship: ...}`).
            "artifacts": sorted(artifact["sha256"] for artifact in self.artifacts.get(slot) or []),
            # When this build (with these settings) was made: a process that started before it runs an older one.
            "builtAt": built_at(),
        }
        write_atomically(os.path.join(target, "manifest.json"), manifest_text(manifest))
        return manifest

    @staticmethod
    def write_requirements(spec, target):
        path = os.path.join(target, "requirements.txt")
        with open(path, "w") as handle:
            handle.write(spec["requirements"])
        return path

    @staticmethod
    def http_check(url, timeout):
        """Status and (lower-cased) headers of a GET, or (None, {}, error)."""
        try:
            status, headers = http_get(url, timeout)
            return status, headers, None
        except Exception as error:
            return None, {}, str(error) or type(error).__name__

    # ---- observe -------------------------------------------------------------------------------------

    def check_web(self, spec):
        """Every web process's health check, once and all at the same time; returns the problems."""
        checks = [(program["name"], port, program["health"])
                  for program in spec["programs"] if program.get("health") for port in program["ports"]]

        def probe(check):
            name, port, health = check
            url = "http://127.0.0.1:%d%s" % (port, health["path"])
            status, _, error = self.http_check(url, parse_duration(health["timeout"]))
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
            processes = settled(spec, states, starting, self.stale_groups(spec, manifest, started))
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
        result["routed"], result["routedFingerprint"] = self.read_upstream()
        result["platform"] = host_platform()
        return result

    def read_upstream(self):
        """The slot and fingerprint the upstream file routes to, from its first line; (None, None) without one."""
        try:
            with open(self.nginx["upstream"]) as handle:
                first = handle.readline()
        except OSError:
            return None, None
        fields = dict(part.split("=", 1) for part in first.split() if "=" in part)
        if not first.startswith("# pinwheel ") or fields.get("environment") != self.env:
            return None, None
        return fields.get("slot"), fields.get("fingerprint")

    # ---- prepare -------------------------------------------------------------------------------------

    @staticmethod
    def installer():
        """uv's absolute path: on the session's PATH (absolute folders only), else where its installer puts it."""
        return find_program("uv") or next(
            (p for p in ("/usr/local/bin/uv", os.path.expanduser("~/.local/bin/uv")) if os.path.exists(p)), None)

    def prepare(self, slot):
        """Builds the slot in a new folder (or reuses an equal build) and only then moves the slot's link to it, so a
        failed install leaves the slot as it was, still serving. Returns whether anything changed."""
        target = self.slot_dir(slot)
        manifest = self.read_manifest(target)
        built = not (manifest and manifest.get("fingerprint") == self.fingerprint(slot))
        same_build = self.same_build(slot) if built else None
        if same_build:
            # Only program settings changed: the installed packages are the same, the processes restart with the
            # new settings when supervisord loads their new section below.
            target = same_build
            self.rewrite_manifest(slot, target)
            self.say("slot %s: the packages of %s are as desired, only program settings changed" % (
                slot, os.path.basename(target)))
        elif built:
            self.build(slot, target)
            hook = self.spec(slot).get("prepareHook")
            if hook:
                try:
                    self.run_hook("prepare", hook, slot, target)
                except BaseException:
                    # Not a complete build: the next prepare builds it again, and runs the hook again.
                    remove_tree(target)
                    raise
        else:
            self.say("slot %s: %s already built, reusing it" % (slot, os.path.basename(target)))
        self.check_env_files(slot)
        rewritten = self.write_supervisor_conf(slot, target)
        # The link is the slot: renaming a new link over it is atomic, so the slot is the old build or the new, never half.
        link = self.slot_link(slot)
        relinked = not os.path.islink(link) or os.readlink(link) != os.path.basename(target)
        if relinked:
            temporary = link + ".new"
            if os.path.lexists(temporary):
                os.remove(temporary)
            os.symlink(os.path.basename(target), temporary)
            os.replace(temporary, link)
        self.supervisord.update()
        self.collect_garbage(slot, keep=os.path.basename(target))
        return built or rewritten or relinked

    def same_build(self, slot):
        """The slot's current build folder when it installed exactly what the request asks for (the same build
        digest) and only the program settings differ; None otherwise."""
        build = self.slots[slot].get("build")
        current = os.path.realpath(self.slot_link(slot))
        manifest = self.read_manifest(current) if os.path.islink(self.slot_link(slot)) else None
        if not build or manifest is None or manifest.get("build") != build:
            return None
        return current

    def rewrite_manifest(self, slot, target):
        """Gives an unchanged build the request's fingerprint; it has not served with the new settings yet."""
        manifest = self.read_manifest(target)
        manifest.update({"fingerprint": self.fingerprint(slot), "commit": self.commit, "builtAt": built_at()})
        manifest.pop("servedAt", None)
        write_atomically(os.path.join(target, "manifest.json"), manifest_text(manifest))

    def check_env_files(self, slot):
        """Each program's `envFile` must exist on the host before its processes start with it."""
        for program in self.spec(slot)["programs"]:
            path = settings_of(program).get("envFile")
            if path and not os.path.isfile(path):
                raise StepFailed("envFile", "program %s: its envFile %s does not exist on this host; create it "
                                 "(KEY=value lines, readable by the program's user) or remove `envFile`" % (
                                     program["name"], path))

    def build(self, slot, target):
        """Creates the virtualenv from the slot's own interpreter and installs exactly its pins.

        Bytecode is compiled at install time (here, or by uv's --compile-bytecode, or pip's default), so a new slot
        does not compile its whole stack on first start, inside the health check's window."""
        spec = self.spec(slot)
        if os.path.lexists(target):
            remove_tree(target)
            if os.path.lexists(target):
                raise StepFailed("install", "slot %s: the leftover build folder %s could not be removed; remove it "
                                 "on the host (check its owner and permissions) and apply again" % (slot, target))
        os.makedirs(target)
        try:
            requirements = self.write_requirements(spec, target)
            venv = os.path.join(target, "venv")
            source = spec["source"]
            offline = []
            if "index" in source:
                where = ["--index-url", source["index"]]
            elif "ship" in source:
                where = ["--no-index", "--find-links", self.link_shipped(slot, target)]
                offline = ["--offline"]
            else:
                where = ["--no-index", "--find-links", source["wheelhouse"]]
            hashes = ["--require-hashes"] if spec["hashed"] else []
            uv = self.installer()
            # A host without a uv of its own builds with the one the controller shipped, when it shipped one.
            shipped = not uv and self.shipped_uv and ShippedUV(self.root).binary(slot, self.shipped_uv)
            uv = uv or shipped
            started = time.monotonic()
            bytecode = ""
            if uv:
                installer = "uv (shipped %s)" % self.shipped_uv["name"] if shipped else "uv"
                self.checked([uv, "venv", "--quiet", "--python", spec["python"], venv], "creating the virtualenv")
                # The agent compiles, so that a release keeps the bytecode of every file the running builds already
                # have: in this process when the slot's interpreter is this one, else with the slot's interpreter,
                # asked first for its bytecode format. Only if it cannot say does uv compile everything.
                python = os.path.join(venv, "bin", "python")
                form = BytecodeFormat.own() if self.is_own_interpreter(spec["python"]) else BytecodeFormat.of(python)
                self.checked([uv, "pip", "install", "--quiet"] + ([] if form else ["--compile-bytecode"]) +
                             ["--python", python, "--no-deps"] + offline + hashes + where + ["-r", requirements],
                             "installing the pins")
                if form:
                    reused, compiled = self.compile_bytecode(venv, self.earlier_venvs(slot, target), form)
                    bytecode = "; bytecode of %d files compiled, of %d taken from the running builds" % (compiled, reused)
            else:
                installer = "pip"
                arguments = ["install", "--quiet", "--no-input", "--disable-pip-version-check", "--no-deps"] + hashes + \
                    where + ["-r", requirements]
                if self.pip_drives_other_venvs(spec["python"]):
                    # One pip, the interpreter's own, drives the new venv (`pip --python`): no pip is copied into
                    # each venv (ensurepip's install was most of a pip prepare) and nothing is compiled for it.
                    self.checked([spec["python"], "-m", "venv", "--without-pip", venv], "creating the virtualenv")
                    self.checked([spec["python"], "-m", "pip", "--python", os.path.join(venv, "bin", "python")] + arguments,
                                 "installing the pins")
                else:
                    self.checked([spec["python"], "-m", "venv", venv], "creating the virtualenv")
                    self.checked([os.path.join(venv, "bin", "python"), "-m", "pip"] + arguments, "installing the pins")
            self.write_manifest(slot, target, installer)
            self.say("slot %s: built %s with %s in %.1fs%s" % (slot, os.path.basename(target), installer,
                                                               time.monotonic() - started, bytecode))
        except BaseException:
            remove_tree(target)
            raise

    def link_shipped(self, slot, target):
        """The build's find-links folder: a link, by its file name, to each shipped file the slot installs, each checked
        by hash first."""
        artifacts = self.artifacts.get(slot)
        if not artifacts:
            raise StepFailed("install", "slot %s installs shipped files, but the request names none; apply again with "
                             "a pinwheel that ships them" % slot)
        store = ArtifactStore(self.root)
        links = os.path.join(target, "artifacts")
        os.makedirs(links)
        for artifact in artifacts:
            os.symlink(store.checked(slot, artifact), os.path.join(links, artifact["name"]))
        self.say("slot %s: %d shipped file(s) checked by hash" % (slot, len(artifacts)))
        return links

    def pip_drives_other_venvs(self, python):
        """Whether `python` has a pip of its own that can install into another venv (`--python`, pip 22.3 and later)."""
        code, _ = self.run([python, "-I", "-c", "import sys, pip; sys.exit(tuple(int(part) for part in "
                            "pip.__version__.split('.')[:2]) < (22, 3))"])
        return code == 0

    @staticmethod
    def is_own_interpreter(python):
        """Whether `python` is the interpreter running the agent, so bytecode compiled here is the slot's."""
        try:
            return os.path.realpath(python) == os.path.realpath(sys.executable)
        except (OSError, ValueError):
            return False

    def earlier_venvs(self, slot, target):
        """The venvs of the builds both slots run now (other than `target`): what a new build can take bytecode from."""
        venvs = []
        for name in sorted(self.slots):
            link = self.slot_link(name)
            if os.path.islink(link):
                build = os.path.realpath(link)
                if build != os.path.realpath(target) and os.path.isdir(os.path.join(build, "venv")):
                    venvs.append(os.path.join(build, "venv"))
        return venvs

    @staticmethod
    def compile_bytecode(venv, earlier=(), form=None):
        """Compiles the venv's packages as uv's --compile-bytecode and pip do (a file that does not compile is left
        to compile at import, as they leave it), for the interpreter whose bytecode `form` describes (this one's by
        default).

        A file that an `earlier` venv (the builds the slots run now) has with the same bytes keeps the bytecode
        compiled there: a release changes a pin or two, and compiling the whole stack again was most of a realistic
        service's prepare. The rest is compiled here, one file after another, or with compileall's worker processes
        when there are many (whose import, ~8 ms, is then small beside the work; it skips what was taken). For
        another interpreter, that interpreter's compileall does it (it too skips what was taken)."""
        form = form or BytecodeFormat.own()
        site = form.site_packages(venv)
        sources = [os.path.join(folder, name) for folder, _, names in os.walk(site) for name in names
                   if name.endswith(".py")]
        sites = [form.site_packages(other) for other in earlier]
        left = [source for source in sources
                if not any(reuse_bytecode(source, other + source[len(site):], form) for other in sites)]
        many = len(left) > COMPILE_IN_WORKERS_FROM
        if left and form.python:
            run_command([form.python, "-I", "-m", "compileall", "-q"] + (["-j", "0"] if many else []) + [site], 3600)
        elif many:
            import compileall
            compileall.compile_dir(site, maxlevels=100, quiet=2, workers=0)
        else:
            for source in left:
                compile_source(source)
        return len(sources) - len(left), len(left)

    # ---- hooks ---------------------------------------------------------------------------------------

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

    # ---- logs and exec: the agent becomes the command, whose output streams back over SSH ----------------

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
        argv, environment, directory = self.as_program(slot, request.get("program"), target, request["argv"],
                                                       {"PINWHEEL_EXEC": "1"}, "exec")
        os.chdir(directory)
        sys.stdout.flush()
        try:
            os.execve(argv[0], argv, environment)
        except OSError as error:
            raise StepFailed("exec", "cannot run %s: %s" % (argv[0], error))

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

    def checked(self, argv, what):
        code, text = self.run(argv)
        if code != 0 and DISK_FULL in text:
            raise StepFailed("diskFull", "%s failed (exit %d): the host's disk is full; free space on it:\n%s" % (
                what, code, text.strip()[-4000:]))
        if code != 0:
            raise StepFailed("install", "%s failed (exit %d):\n%s" % (what, code, text.strip()[-4000:]))

    def collect_garbage(self, slot, keep):
        """Keeps the current build and the one before it, so reverting a release re-links instead of reinstalling."""
        builds = []
        for name in os.listdir(self.slots_dir):
            if name.startswith(slot + "-") and name != keep:
                path = os.path.join(self.slots_dir, name)
                builds.append((os.path.getmtime(path), path))
        for _, path in sorted(builds, reverse=True)[1:]:
            remove_tree(path)

    # ---- start and check -----------------------------------------------------------------------------

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
        path = self.conf_path(slot)
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
        stale = self.stale_groups(spec, manifest, self.supervisord.started)
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

    def slot_problems(self, spec):
        """Why the slot is not ready now: processes not RUNNING, or web processes not answering; empty when it is.

        What it saw is kept for this request's observation (see `seen`), so a slot just checked is not asked twice."""
        states, problem = self.supervisord.states()
        problems = [problem] if problem else []
        stale = self.stale_groups(spec, self.read_manifest(self.slot_link(spec["slot"])), self.supervisord.started)
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

    def stale_groups(self, spec, manifest, started):
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
            slot, attempts, time.monotonic() - started, "; ".join(problems), self.log_tail(spec).lstrip("\n")))

    def verify(self, slot):
        """The slot is built exactly as the request specifies, has served traffic on this host (it is a rollback
        target, not a build that was only ever prepared), all its processes run, and its web processes answer:
        checked once, no waiting. A host that changed since it was last observed refuses here."""
        manifest = self.read_manifest(self.slot_link(slot))
        if manifest is None or manifest.get("fingerprint") != self.fingerprint(slot):
            raise StepFailed("notPrepared", "slot %s is not prepared as desired" % slot)
        if not manifest.get("servedAt") and self.read_upstream() != (slot, self.fingerprint(slot)):
            raise StepFailed("notServed", "slot %s has never served traffic on this host" % slot)
        problems = self.slot_problems(self.spec(slot))
        if problems:
            raise StepFailed("notReady", "slot %s is not ready: %s" % (slot, "; ".join(problems)))
        return False

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

    # ---- route ---------------------------------------------------------------------------------------

    def slot_variable(self):
        return "$pinwheel_%s_slot" % self.app.replace("-", "_")

    def upstream_text(self, slot):
        """The nginx upstream file for the slot; its first line records what it routes to, for observing."""
        lines = ["# pinwheel environment=%s slot=%s fingerprint=%s" % (self.env, slot, self.fingerprint(slot)),
                 "# Managed by Pinwheel: the active slot's web processes. Do not edit.",
                 "# %s names the slot; `add_header X-Pinwheel-Slot %s always;` lets Pinwheel verify a switch." % (
                     self.slot_variable(), self.slot_variable()),
                 "geo %s { default %s; }" % (self.slot_variable(), slot)]
        for program in self.spec(slot)["programs"]:
            if not program["ports"]:
                continue
            lines.append("upstream %s-%s {" % (self.app, program["name"]))
            lines += ["    server 127.0.0.1:%d;" % port for port in program["ports"]]
            lines.append("}")
        web = self.probed_program(slot)
        if web:
            # Pinwheel's own probe: the headers are written into this file, so only workers that loaded it (the
            # new ones, after the reload) answer with the new slot and fingerprint.
            lines += ["# Pinwheel's probe (nginx.probe): verifies a switch without a change to the site's server block.",
                      "server {",
                      "    listen %s;" % self.nginx["probe"],
                      "    location / {",
                      "        proxy_pass http://%s-%s;" % (self.app, web["name"]),
                      "        add_header X-Pinwheel-Slot %s always;" % slot,
                      "        add_header X-Pinwheel-Fingerprint %s always;" % self.fingerprint(slot),
                      "    }",
                      "}"]
        return "\n".join(lines) + "\n"

    def probed_program(self, slot):
        """The web program the probe proxies to (the first with a health check), or None without a probe."""
        if not self.nginx.get("probe"):
            return None
        return next((p for p in self.spec(slot)["programs"] if p["ports"] and p.get("health")), None)

    def route(self, slot):
        """Points nginx at the slot; returns False when the upstream file already did (nothing to reload)."""
        path = self.nginx["upstream"]
        try:
            with open(path) as handle:
                previous = handle.read()
        except OSError:
            previous = None
        text = self.upstream_text(slot)
        if previous == text:
            self.say("nginx already routes to slot %s" % slot)
            self.mark_served(slot)
            return False
        write_atomically(path, text)

        def restore(code, reason):
            if previous is None:
                os.remove(path)
            else:
                write_atomically(path, previous)
            raise StepFailed(code, reason)

        code, text = self.command("nginx.test", "nginxTest")
        if code != 0:
            restore("nginxTest", "`%s` failed; the previous upstream file is back:\n%s" % (self.nginx["test"], text.strip()))
        code, text = self.command("nginx.reload", "nginxReload")
        if code != 0:
            restore("nginxReload", "`%s` failed; the previous upstream file is back:\n%s" % (
                self.nginx["reload"], text.strip()))
        web = self.probed_program(slot)
        checks = []
        if web:
            checks.append(("http://%s%s" % (self.nginx["probe"], web["health"]["path"]), self.fingerprint(slot)))
        if self.nginx.get("check"):
            checks.append((self.nginx["check"], None))
        verifying = time.monotonic()
        for check, fingerprint in checks:
            answered, answer = self.answered_by(check, slot, fingerprint)
            if not answered:
                try:
                    restore("nginxVerify", "%s answered %s through nginx after the switch to %s; switched back" % (
                        check, answer, slot))
                finally:
                    self.command("nginx.reload", "nginxVerify")
        if checks:
            self.measured["nginxVerifySeconds"] = round(time.monotonic() - verifying, 3)
            self.say("verified through nginx in %.2fs" % (time.monotonic() - verifying))
        self.say("nginx now routes to slot %s" % slot)
        self.mark_served(slot)
        return True

    def mark_served(self, slot):
        """Records in the slot's manifest when it first served traffic on this host: `verify`, which a warm switch
        (a rollback) runs first, accepts only a slot that did, so a build that was only ever prepared is switched
        to at the policy's pace."""
        target = os.path.realpath(self.slot_link(slot))
        manifest = self.read_manifest(target)
        if manifest is None or manifest.get("servedAt") or manifest.get("fingerprint") != self.fingerprint(slot):
            return
        manifest["servedAt"] = utc_now()
        write_atomically(os.path.join(target, "manifest.json"), manifest_text(manifest))

    def answered_by(self, check, slot, fingerprint=None):
        """Whether `check`, fetched through nginx, answers from the slot within ROUTE_VERIFY_ATTEMPTS, and the
        last answer, for the error.

        nginx reloads gracefully: old workers may still accept a connection or two while they shut down. Through
        Pinwheel's probe (`fingerprint` given), three answers in a row must carry the new fingerprint, which only
        the new workers' config has. Through the site's server block: when it adds the X-Pinwheel-Slot header,
        three answers in a row must come from the new slot; without the header any success will do."""
        answer = None
        confirmed = 0
        for _ in range(ROUTE_VERIFY_ATTEMPTS):
            status, headers, error = self.http_check(check, 2)
            header = headers.get("x-pinwheel-slot")
            answer = "status %s" % status if status is not None else error
            if fingerprint is not None and status is not None and 200 <= status < 400:
                if headers.get("x-pinwheel-fingerprint") == fingerprint:
                    confirmed += 1
                    if confirmed == 3:
                        return True, answer
                    continue
                answer = "fingerprint %s (X-Pinwheel-Fingerprint)" % ((headers.get("x-pinwheel-fingerprint") or "none")[:12])
                confirmed = 0
                time.sleep(0.02)
                continue
            if status is not None and 200 <= status < 400:
                if header is None:
                    return True, answer
                if header == slot:
                    confirmed += 1
                    if confirmed == 3:
                        return True, answer
                    continue
                answer = "slot %s (X-Pinwheel-Slot)" % header
            confirmed = 0
            time.sleep(0.02)
        return False, answer

    # ---- requests ------------------------------------------------------------------------------------

    def lock(self):
        """The host's lock, so two runs never interleave; None when another run held it past the timeout."""
        os.makedirs(self.base, exist_ok=True)
        handle = open(os.path.join(self.base, ".lock"), "a")
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except OSError:
                if time.monotonic() > deadline:
                    handle.close()
                    return None
                time.sleep(0.1)

    def fence(self, record):
        """Why this request's lease epoch may not act here, or None: the host keeps the highest epoch it has seen for
        the environment (in <root>/<env>/fence) and refuses lower ones, so a controller that lost its lease cannot
        change the host. `record` (under the host's lock) raises the fence to this epoch. A request without an epoch
        (a controller that runs alone, an operator's apply) is not fenced."""
        if self.epoch is None:
            return None
        path = os.path.join(self.base, "fence")
        try:
            with open(path) as stream:
                text = stream.read(64).strip()
        except FileNotFoundError:
            text = "0"
        if not text.isdigit():
            return "refused: the fence file %s is unreadable (%r); remove it to let the current lease holder act" % (
                path, text[:20])
        highest = int(text)
        if self.epoch < highest:
            return ("refused: lease epoch %d is below %d, the highest this host has seen for %s: another controller "
                    "owns the environment now" % (self.epoch, highest, self.env))
        if record and self.epoch > highest:
            write_atomically(path, "%d\n" % self.epoch)
        return None

    def execute(self, steps):
        """Runs the steps in order under the host's lock, stopping at the first failure."""
        lock = self.lock()
        if lock is None:
            return reply(False, "locked", "another Pinwheel run held the lock on %s for more than %s seconds; "
                         "try again when it is done" % (self.base, self.lock_timeout), observation=self.observe())
        done = []
        try:
            refusal = self.fence(record=True)
            if refusal:
                return reply(False, "fenced", refusal, observation=self.observe())
            for step in steps:
                started = time.monotonic()
                self.output = []
                self.measured = {}
                try:
                    changed = getattr(self, step["action"])(step["slot"])
                except Exception as error:
                    if isinstance(error, StepFailed):
                        code, message, detail = error.code, error.diagnosis, error.detail
                    elif isinstance(error, OSError) and error.errno == ENOSPC:
                        code, message, detail = "diskFull", "the host's disk is full (%s); free space on it" % error, None
                    else:
                        code, message, detail = "internal", "%s: %s" % (type(error).__name__, error), None
                    done.append(step_result(step, False, started, self.output, code=code, error=message, detail=detail))
                    return reply(False, "stepFailed", "%s %s: %s" % (step["action"], step["slot"], message),
                                 steps=done, observation=self.observe())
                done.append(step_result(step, True, started, self.output, changed, measured=self.measured))
            return reply(True, steps=done, observation=self.observe(probe=self.full_observation))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()


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


def uptime():
    """Seconds since this machine booted (a clock no one sets), or None without /proc."""
    try:
        with open("/proc/uptime") as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def boot_id():
    """This boot's id: times since boot compare only within one boot."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return None


def process_start(pid):
    """When process `pid` started, in seconds since boot, from /proc to the hundredth (supervisord's own times are
    whole seconds of a clock that can be set); None where there is no /proc or no such process."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
        return int(stat[stat.rindex(")") + 2:].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def process_age(pid):
    """Seconds since process `pid` started; None where that cannot be known."""
    start, now = process_start(pid), uptime()
    return None if start is None or now is None else now - start


def built_at():
    """When a build is made, as the manifest keeps it: this boot and the seconds since it."""
    return {"boot": boot_id(), "uptime": uptime()}


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


def write_atomically(path, content):
    """Writes `content` (text, or bytes) to a temporary file beside `path` and renames it into place: readers see the
    old file or the new.

    The temporary file is named after this process (the host's lock keeps two agents from writing one file), not
    made by `tempfile`, whose import costs a switch ~2.5 ms."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, ".pinwheel-%d-%s" % (os.getpid(), os.path.basename(path)))
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(handle, "wb" if isinstance(content, bytes) else "w") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


def find_program(name):
    """The path of the executable `name` on PATH, as `shutil.which` finds it; None when there is none. (Importing
    shutil, with fnmatch and re, costs a prepare ~8 ms.)"""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not folder.startswith("/"):
            continue  # a relative folder (``, `.`) would be the current folder's program
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def remove_tree(path):
    """Removes the folder `path` and everything in it, ignoring errors, as `shutil.rmtree(path, ignore_errors=True)`
    does: by `rm -rf`, which does not follow symbolic links, because every release removes an old build and
    importing shutil costs ~8 ms. Without `rm`, shutil does it."""
    try:
        run_command([system_program("rm") or "/bin/rm", "-rf", "--", path], 600)
    except OSError:
        import shutil
        shutil.rmtree(path, ignore_errors=True)


def site_packages(venv):
    """The site-packages folder of a venv of this interpreter's version."""
    return BytecodeFormat.own().site_packages(venv)


class BytecodeFormat(object):
    """What an interpreter's bytecode files are: the magic number that starts them, the tag in their names
    (`cpython-311`) and its version's site-packages folder in a venv. This interpreter's (`own`), or another's, asked
    once (`of`), which then compiles for itself (`python`)."""

    QUERY = ("import sys, importlib.util; sys.stdout.write('%s %s %d.%d' % (importlib.util.MAGIC_NUMBER.hex(), "
             "sys.implementation.cache_tag, sys.version_info[0], sys.version_info[1]))")

    def __init__(self, magic, tag, version, python=None):
        self.magic, self.tag, self.version, self.python = magic, tag, version, python

    @classmethod
    def own(cls):
        from importlib._bootstrap_external import MAGIC_NUMBER  # what py_compile itself uses
        return cls(MAGIC_NUMBER, sys.implementation.cache_tag, "%d.%d" % sys.version_info[:2])

    @classmethod
    def of(cls, python):
        """The format of the interpreter `python`, or None when it does not answer as a CPython 3 does."""
        try:
            code, output = run_command([python, "-I", "-c", cls.QUERY], 60)
            magic, tag, version = output.split()
            if code != 0 or not tag or len(magic) != 8:
                return None
            return cls(bytes.fromhex(magic), tag, version, python)
        except (OSError, ValueError):
            return None

    def site_packages(self, venv):
        return os.path.join(venv, "lib", "python" + self.version, "site-packages")

    def cache_path(self, source):
        """Where the interpreter looks for the bytecode of `source`, as `importlib.util.cache_from_source` says."""
        head, tail = os.path.split(source)
        base, dot, rest = tail.rpartition(".")
        return os.path.join(head, "__pycache__", (base if base else rest) + dot + self.tag + ".pyc")


def pyc_header(status, form=None):
    """The 16 bytes that start the bytecode of a source file with this `os.stat`, as py_compile writes them: the
    interpreter's magic number, flags 0 (checked by timestamp, PEP 552), the source's mtime and size."""
    return ((form or BytecodeFormat.own()).magic + (0).to_bytes(4, "little")
            + (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (status.st_size & 0xFFFFFFFF).to_bytes(4, "little"))


def compile_source(path):
    """Writes the bytecode of the Python file `path` where the interpreter looks for it, byte for byte as
    `py_compile.compile` does, without importing py_compile (traceback, enum, re: ~8 ms). Returns False, writing
    nothing, for a file that does not compile."""
    from importlib._bootstrap_external import cache_from_source
    import marshal
    with open(path, "rb") as handle:
        source = handle.read()
        status = os.fstat(handle.fileno())
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception:  # py_compile reports any failure to compile (SyntaxError, ValueError, ...); compileall skips it
        return False
    write_atomically(cache_from_source(path), pyc_header(status) + marshal.dumps(code))
    return True


def reuse_bytecode(path, earlier, form=None):
    """Gives the Python file `path` the bytecode compiled for `earlier`, another build's file, when both hold the same
    bytes (uv links installed files from its cache, so most often they are one file) and that bytecode is valid for
    `earlier` as the interpreter (whose bytecode `form` describes: this one's by default) checks it. A hard link when
    the headers agree, else a copy with `path`'s header; the interpreter sets the code's file name from where it loads
    it. Returns whether it did."""
    form = form or BytecodeFormat.own()
    try:
        mine, theirs = os.stat(path), os.stat(earlier)
        if mine.st_size != theirs.st_size:
            return False
        compiled = form.cache_path(earlier)
        with open(compiled, "rb") as handle:
            valid = pyc_header(theirs, form)
            if handle.read(16) != valid:
                return False
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino) and not same_bytes(path, earlier):
                return False
            target = form.cache_path(path)
            header = pyc_header(mine, form)
            if header == valid:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                try:
                    os.link(compiled, target)
                    return True
                except OSError:
                    pass
            write_atomically(target, header + handle.read())
        return True
    except OSError:
        return False


def same_bytes(first, second):
    """Whether two files hold the same bytes."""
    with open(first, "rb") as one, open(second, "rb") as other:
        while True:
            a, b = one.read(1 << 16), other.read(1 << 16)
            if a != b:
                return False
            if not a:
                return True


def run_command(argv, timeout, environment=None):
    """(exit status, output) of `argv`, standard error in the output and standard input empty, as `subprocess.run`
    gives them; a status below 0 is the signal that ended it. Started with `os.posix_spawn`: `subprocess` imports
    `signal`, `selectors` and `threading`, ~8 ms of CPU on every switch. Past `timeout` seconds the command is killed
    and TimeoutError raised. `argv[0]` must be an absolute path (no PATH is searched); `environment` replaces the
    agent's own."""
    import select
    if not argv[0].startswith("/"):
        raise FileNotFoundError(2, "not an absolute path; the agent searches no PATH", argv[0])
    reading, writing = os.pipe()
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ if environment is None else environment, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, writing, 1),
            (os.POSIX_SPAWN_DUP2, writing, 2)])
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)
    chunks = []
    deadline = time.monotonic() + timeout
    poller = select.poll()
    poller.register(reading, select.POLLIN | select.POLLHUP)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise TimeoutError("%s ran for more than %s seconds and was stopped" % (argv[-1], timeout))
            if poller.poll(max(1, int(left * 1000))):
                chunk = os.read(reading, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(reading)
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return code, text


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
