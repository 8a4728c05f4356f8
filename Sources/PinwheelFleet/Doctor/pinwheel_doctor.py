"""Pinwheel's host doctor, protocol 1: checks that a host has what Pinwheel needs, and says how to fix what it lacks.

Sent over SSH by `pinwheel doctor` (the Swift side embeds this file, as it does the agent) and run as
`python3 -I -S`; its loader calls `main(REQUEST)` with the base64 of the request JSON, and it answers with one
line, `PINWHEEL-DOCTOR <reply JSON>`, on standard output. It changes nothing on the host: writability is tried with
a temporary file that is removed at once. Every value arrives as JSON and nothing passes through a shell: the config's
commands (`supervisor.ctl`, `nginx.test`), which the Swift side checked to be argument vectors of plain words, run as
those words.

The reply holds the host's clock (`time`, seconds since the epoch, read first) and a list of checks, each
`{"name", "ok", "optional", "detail", "fix"}`: `fix` is the command or the edit that makes the check pass. The
request's `interpreters` (`{"name", "path"}`) are the environment's interpreter and each slot's own.

Standard library only, Python 3.8+.
"""
import base64
import fnmatch
import json
import os
import shlex
import subprocess
import sys
import time

PROTOCOL = 1
MARKER = "PINWHEEL-DOCTOR "
MIB = 1024 * 1024


class Report:
    """The checks, in the order they ran."""

    def __init__(self):
        self.checks = []

    def add(self, name, ok, detail, fix=None, optional=False):
        self.checks.append({"name": name, "ok": bool(ok), "optional": optional, "detail": detail,
                            "fix": None if ok else fix})
        return ok


def configured(command, timeout=60):
    """Runs a configured command (`supervisor.ctl ...`, `nginx.test`) as its words, never through a shell:
    (exit status, output)."""
    words = [word for word in command.split(" ") if word]
    if not words:
        return 127, "the command is empty"
    return run(words, timeout)


def run(argv, timeout=60):
    """Runs a program with arguments, no shell: (exit status, output); 127 when it cannot be started."""
    try:
        completed = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   timeout=timeout, universal_newlines=True)
    except OSError as error:
        return 127, str(error)
    except subprocess.TimeoutExpired:
        return 124, "%s did not finish in %d s" % (argv[0], timeout)
    return completed.returncode, completed.stdout


def last_lines(text, count=5):
    return "\n".join(text.strip().splitlines()[-count:])


def user():
    import pwd
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def which(program):
    import shutil
    found = shutil.which(program)
    if found:
        return found
    # A login over SSH may have a PATH without the sbin folders, where Debian puts nginx.
    for folder in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        path = os.path.join(folder, program)
        if os.access(path, os.X_OK):
            return path
    return None


def writable(folder):
    """None when a file can be created in `folder`, else why not (tried for real: permissions, read-only mounts)."""
    if not os.path.isdir(folder):
        return "%s does not exist" % folder if not os.path.exists(folder) else "%s is not a folder" % folder
    path = os.path.join(folder, ".pinwheel-doctor-%d" % os.getpid())
    try:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write("pinwheel doctor\n")
        os.remove(path)
        return None
    except OSError as error:
        return "%s is not writable by %s: %s" % (folder, user(), error.strerror or error)


def unsafe(folder):
    """Why the agent would refuse `folder` as a deploy root, as it checks it (`root_problem`), or None: it must be the
    SSH user's or root's, and not writable by its group or others."""
    status = os.stat(folder)
    if status.st_uid not in (os.geteuid(), 0):
        return ("%s is owned by user id %d, not by %s or root: the agent refuses it (whoever owns it could change what "
                "Pinwheel runs)" % (folder, status.st_uid, user()))
    if status.st_mode & 0o022:
        return ("%s is writable by its group or others (mode %o): the agent refuses it; chmod go-w %s" % (
            folder, status.st_mode & 0o7777, shlex.quote(folder)))
    return None


def folder_fix(folder):
    """The command that makes `folder` exist and writable by the SSH user."""
    return "sudo install -d -o %s %s" % (shlex.quote(user()), shlex.quote(folder))


def existing_ancestor(path):
    while path and not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path or "/"


# ---- the interpreter and installers -----------------------------------------------------------------------

def has_uv():
    return which("uv") or next(
        (p for p in ("/usr/local/bin/uv", os.path.expanduser("~/.local/bin/uv")) if os.access(p, os.X_OK)), None)


def check_python(report, python, uv, name="python", shipped_uv=None):
    """The interpreter `python` exists and has venv, and without uv on the host a way to install; `name` says whose
    it is."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        found = which("python3")
        return report.add(name, False, "the interpreter %s does not exist on this host%s" % (
            python, "; python3 here is %s" % found if found else ""),
            "install it (Debian: sudo apt-get install python3 python3-venv), or set `python:` in environment.yaml to "
            "the interpreter's path (`command -v python3` on the host)")
    code, output = run([python, "-I", "-c", "import sys, venv; print('%d.%d.%d' % sys.version_info[:3])"])
    if code != 0:
        return report.add(name, False, "%s cannot import venv: %s" % (python, last_lines(output, 2)),
                          "sudo apt-get install python3-venv (or the python3.X-venv of this interpreter)")
    version = output.strip()
    report.add(name, True, "%s is Python %s with venv" % (python, version))
    if not uv:
        check_installer(report, python, shipped_uv, name.replace("python", "installer", 1))
    return True


# The interpreter's own pip drives venvs made --without-pip (`pip --python`) from this version on, as the agent does.
PIP_DRIVES_VENVS = (22, 3)


def check_installer(report, python, shipped_uv, name):
    """How a host without uv installs a slot with `python`, as the agent chooses: a uv the controller ships, else the
    interpreter's own pip (22.3 or later) driving each venv made --without-pip, else a pip that ensurepip copies into
    each venv."""
    if shipped_uv:
        return report.add(name, True, "the controller ships uv %s to this host (`ship: {uv: ...}`): %s needs only "
                                      "venv" % (shipped_uv, python))
    code, output = run([python, "-I", "-c", "import sys, pip; print(pip.__version__); sys.exit(tuple(int(part) for "
                                            "part in pip.__version__.split('.')[:2]) < %r)" % (PIP_DRIVES_VENVS,)])
    if code == 0:
        return report.add(name, True, "%s's pip %s installs into each slot's venv (made --without-pip); no ensurepip "
                                      "is needed" % (python, last_lines(output, 1)))
    code, _ = run([python, "-I", "-c", "import ensurepip"])
    return report.add(name, code == 0, "%s has no pip %d.%d or later, so each venv gets a pip of its own from "
                                       "ensurepip, which it %s" % ((python,) + PIP_DRIVES_VENVS +
                                                                   ("has" if code == 0 else "lacks",)),
                      "sudo apt-get install python3-pip (a pip 22.3 or later drives every venv) or python3-venv "
                      "(ensurepip); or install uv on the host, or have the controller ship it "
                      "(`source: {ship: {..., uv: VERSION}}`)")


def check_uv(report, shipped_uv=None):
    uv = has_uv()
    if uv:
        code, output = run([uv, "--version"])
        report.add("uv", code == 0, "%s: %s" % (uv, output.strip() or "exit %d" % code),
                   "reinstall uv (https://docs.astral.sh/uv/)", optional=True)
    elif shipped_uv:
        report.add("uv", True, "uv is not installed: the controller ships uv %s with the artifacts" % shipped_uv,
                   optional=True)
    else:
        report.add("uv", False, "uv is not installed: slots are installed with pip, which is slower",
                   "curl -LsSf https://astral.sh/uv/install.sh | sudo env UV_INSTALL_DIR=/usr/local/bin sh",
                   optional=True)
    return uv


# ---- supervisord ----------------------------------------------------------------------------------------------

def supervisor_config_path(ctl):
    """The supervisord config the `ctl` command uses: its `-c`, or supervisord's usual places."""
    try:
        words = shlex.split(ctl)
    except ValueError:
        return None
    for index, word in enumerate(words):
        if word in ("-c", "--configuration") and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--configuration="):
            return word.split("=", 1)[1]
    for path in ("/etc/supervisor/supervisord.conf", "/etc/supervisord.conf"):
        if os.path.exists(path):
            return path
    return None


def read_supervisor_config(path):
    import configparser
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    if not parser.read(path):
        return None
    return parser


def supervisor_includes(parser, config_path):
    """The absolute glob patterns of the config's [include] files."""
    if parser is None or not parser.has_option("include", "files"):
        return []
    here = os.path.dirname(os.path.abspath(config_path))
    patterns = []
    for word in parser.get("include", "files").replace("%(here)s", here).split():
        patterns.append(os.path.normpath(word if os.path.isabs(word) else os.path.join(here, word)))
    return patterns


def glob_matches(path, pattern):
    """Whether glob `pattern` matches `path` as glob(3) would: `*` and `?` never cross a `/`."""
    path_parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(path_parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(part, wanted) for part, wanted in zip(path_parts, pattern_parts))


def pid_alive(pidfile):
    """True or False when the pid file says, None when there is none to read."""
    try:
        with open(pidfile) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return None if not os.path.exists(pidfile) else False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def supervisor_socket(parser):
    """The unix socket the agent reads supervisord through, as it finds it: `[supervisorctl] serverurl` when it is a
    `unix://` URL, else `[unix_http_server] file`; None when supervisorctl logs in or talks HTTP (the agent then runs
    the `ctl` command, which the supervisorctl check covers)."""
    if parser is None or parser.has_option("supervisorctl", "username"):
        return None
    if parser.has_option("supervisorctl", "serverurl"):
        url = parser.get("supervisorctl", "serverurl").strip()
        return url[len("unix://"):] if url.startswith("unix://") else None
    if parser.has_option("unix_http_server", "file"):
        return parser.get("unix_http_server", "file").strip()
    return None


def check_socket(report, parser, config_path):
    """Whether this user (the SSH user) can connect to supervisord's socket: observing a host reads it."""
    path = supervisor_socket(parser)
    if path is None:
        return
    import socket
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    fix = None
    try:
        connection.settimeout(3)
        connection.connect(path)
        ok, detail = True, "%s accepts %s" % (path, user())
    except PermissionError:
        ok, detail = False, "%s refuses %s (permission denied): observing reads supervisord through it" % (path, user())
        fix = ("in [unix_http_server] of %s set chown = root:GROUP and chmod = 0770 with %s in GROUP "
               "(sudo usermod -aG GROUP %s), then restart supervisord" % (config_path, user(), user()))
    except FileNotFoundError:
        ok, detail = False, "%s does not exist: supervisord is not serving the socket its config names" % path
        fix = "restart supervisord, or correct [unix_http_server] file in %s" % config_path
    except OSError as error:
        ok, detail = False, "%s: %s" % (path, error.strerror or error)
        fix = "check [unix_http_server] in %s" % config_path
    finally:
        connection.close()
    report.add("supervisord socket", ok, detail, fix)


def check_supervisor(report, settings, app, environment):
    ctl = settings["ctl"]
    include = os.path.normpath(settings["include"])
    config_path = supervisor_config_path(ctl)
    parser = read_supervisor_config(config_path) if config_path else None
    pidfile = parser.get("supervisord", "pidfile") if parser is not None and parser.has_option("supervisord", "pidfile") else None
    start = "sudo systemctl enable --now supervisor" if config_path in (None, "/etc/supervisor/supervisord.conf") \
        else "supervisord -c %s" % shlex.quote(config_path)
    code, output = configured(ctl + " pid")
    reachable = code == 0 and output.strip().isdigit()
    running = pid_alive(pidfile) if pidfile else None
    if running is None:
        running = reachable
    report.add("supervisord", running, "supervisord is %s%s" % (
        "running" if running else "not running", " (pid file %s)" % pidfile if pidfile else ""),
        "start it: %s" % start)
    report.add("supervisorctl", reachable, "`%s pid` %s" % (
        ctl, "reaches supervisord" if reachable else "failed (exit %d): %s" % (code, last_lines(output, 3))),
        ("start supervisord: %s" % start) if not running else
        "check [unix_http_server] and [supervisorctl] in %s and `supervisor.ctl` in environment.yaml" % (
            config_path or "supervisord's config"))
    if running:
        # A stopped supervisord's socket is gone; the fix above says to start it.
        check_socket(report, parser, config_path)
    problem = writable(include)
    report.add("supervisor include folder", problem is None,
               "%s is writable" % include if problem is None else problem, folder_fix(include))
    if parser is None:
        return report.add("supervisor include", False, "cannot read supervisord's config%s" % (
            " " + config_path if config_path else " (no -c in `supervisor.ctl`, no /etc/supervisor/supervisord.conf)"),
            "name it in `supervisor.ctl` (e.g. `supervisorctl -c /etc/supervisor/supervisord.conf`)")
    program = os.path.join(include, "%s-%s-A.conf" % (app, environment))
    patterns = supervisor_includes(parser, config_path)
    included = any(glob_matches(program, pattern) for pattern in patterns)
    report.add("supervisor include", included, "%s %s included by %s ([include] files = %s)" % (
        program, "is" if included else "is not", config_path, " ".join(patterns) or "nothing"),
        "add to %s:\n[include]\nfiles = %s/*.conf\nthen: %s reread" % (config_path, include, ctl))


# ---- nginx ----------------------------------------------------------------------------------------------------

def nginx_dump_command(test):
    """`nginx.test` with `-t` made `-T` (test, then print every config file read), or None when it has no `-t`."""
    try:
        words = shlex.split(test)
    except ValueError:
        return None
    if "-t" not in words:
        return None
    return " ".join(shlex.quote("-T" if word == "-t" else word) for word in words)


def nginx_files(dump):
    """The files of `nginx -T`'s output, in order (the main one first): [(path, text)]."""
    files = []
    for line in dump.splitlines(True):
        if line.startswith("# configuration file ") and line.rstrip().endswith(":"):
            files.append([line[len("# configuration file "):].rstrip()[:-1], []])
        elif files:
            files[-1][1].append(line)
    return [(path, "".join(lines)) for path, lines in files]


def nginx_tokens(text):
    """nginx config tokens: words (quotes removed), `{`, `}` and `;`; comments skipped."""
    tokens, word, index, quote = [], [], 0, None
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and index + 1 < len(text):
                word.append(text[index + 1])
                index += 1
            elif char == quote:
                quote = None
            else:
                word.append(char)
        elif char in "\"'":
            quote = char
        elif char == "#":
            while index < len(text) and text[index] != "\n":
                index += 1
        elif char.isspace() or char in "{};":
            if word:
                tokens.append("".join(word))
                word = []
            if char in "{};":
                tokens.append(char)
        else:
            word.append(char)
        index += 1
    if word:
        tokens.append("".join(word))
    return tokens


def included_at_http(files, target):
    """Whether an `include` directly in the `http` block (or in a file included there) names `target`."""
    if not files:
        return False
    texts = dict(files)
    prefix = os.path.dirname(files[0][0])

    def walk(path, context, depth):
        if depth > 16:
            return False
        words = []
        for token in nginx_tokens(texts.get(path, "")):
            if token == "{":
                context = context + [words[0] if words else ""]
                words = []
            elif token == "}":
                context = context[:-1]
                words = []
            elif token == ";":
                if len(words) == 2 and words[0] == "include":
                    pattern = os.path.normpath(os.path.join(prefix, words[1]))
                    if context == ["http"] and glob_matches(target, pattern):
                        return True
                    for name, _ in files:
                        if glob_matches(name, pattern) and walk(name, context, depth + 1):
                            return True
                words = []
            else:
                words.append(token)
        return False

    return walk(files[0][0], [], 0)


def check_nginx(report, settings, app):
    test = settings["test"]
    upstream = os.path.normpath(settings["upstream"])
    try:
        program = shlex.split(test)[0] if shlex.split(test) else "nginx"
    except ValueError:
        program = "nginx"
    if os.path.basename(program) in ("sudo", "doas", "env"):
        program = "nginx"
    found = which(program) if "/" not in program else (program if os.access(program, os.X_OK) else None)
    if not report.add("nginx", bool(found), "%s %s" % (program, "is %s" % found if found else "is not installed"),
                      "sudo apt-get install nginx"):
        return
    code, output = configured(test)
    report.add("nginx -t", code == 0, "`%s` %s" % (test, "passes" if code == 0 else "fails (exit %d): %s" % (
        code, last_lines(output, 4))),
        "fix what `%s` names%s" % (test, "" if os.path.exists(upstream) else
                                   "; if it is the missing %s, copy nginx/%s-upstream-placeholder.conf from the config "
                                   "repository there" % (upstream, app)))
    folder = os.path.dirname(upstream)
    problem = writable(folder)
    report.add("upstream folder", problem is None, "%s is writable" % folder if problem is None else problem,
               folder_fix(folder))
    dump_command = nginx_dump_command(test)
    include_fix = "add `include %s;` inside the http block of nginx's config (or copy nginx/pinwheel-%s.conf from " \
                  "the config repository to /etc/nginx/conf.d/), then: %s && %s" % (upstream, app, test, settings["reload"])
    if dump_command is None:
        return report.add("upstream included", False, "cannot tell whether nginx includes %s: `%s` has no -t to make "
                          "-T of" % (upstream, test), include_fix)
    code, output = configured(dump_command)
    files = nginx_files(output)
    if code != 0 or not files:
        return report.add("upstream included", False, "cannot read nginx's config with `%s` (exit %d): %s" % (
            dump_command, code, last_lines(output, 3)), include_fix)
    included = included_at_http(files, upstream)
    report.add("upstream included", included, "%s %s included in the http block of %s" % (
        upstream, "is" if included else "is not", files[0][0]), include_fix)


def http_head(url, timeout=3):
    """Status and lower-cased headers of a GET of `url` (http:// only, as the config allows)."""
    import http.client
    import urllib.parse
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        raise ValueError("only http:// is checked from the host")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", (parts.path or "/") + ("?" + parts.query if parts.query else ""),
                           headers={"User-Agent": "pinwheel-doctor"})
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def check_switch(report, settings, app, probed_program=True):
    """Whether a switch can be verified: through Pinwheel's probe (`nginx.probe`), which the agent writes into the
    upstream file it owns when a web program has a health check to proxy to (`probed_program`), and through
    `nginx.check`, which must answer through nginx, naming the slot in X-Pinwheel-Slot unless the probe verifies it."""
    probe = settings.get("probe") if probed_program else None
    probed = None
    if probe:
        probed, detail, fix = probe_state(settings, probe)
        if not probed:
            return report.add("switch verified", False, detail, fix)
    variable = "$pinwheel_%s_slot" % app.replace("-", "_")
    header_fix = "add `add_header X-Pinwheel-Slot %s always;` to the location that serves %s (the config " \
                 "repository's nginx/%s-location.conf), then reload nginx" % (variable, settings.get("check") or "it", app)
    check = settings.get("check")
    if not check:
        if probed:
            return report.add("switch verified", True, probed)
        return report.add("switch verified", False, "no `nginx.check`: after a reload, a switch is not verified through "
                          "nginx, so old workers may still serve the old slot when a rollout moves on",
                          "set `check:` under `nginx` in environment.yaml to a URL through nginx, e.g. "
                          "http://127.0.0.1/healthz, and " + header_fix, optional=True)
    try:
        status, headers = http_head(check)
    except Exception as error:
        return report.add("switch verified", False, "%s does not answer: %s; every switch would fail its "
                          "verification and be undone" % (check, error),
                          "make nginx answer %s (its listen address and location), or fix `nginx.check`" % check)
    slot = headers.get("x-pinwheel-slot")
    if slot is None:
        if probed:
            return report.add("switch verified", True, "%s; %s answers (status %d)" % (probed, check, status))
        return report.add("switch verified", False, "%s answers (status %d) without X-Pinwheel-Slot, so any answer "
                          "counts as the new slot's" % (check, status), header_fix, optional=True)
    return report.add("switch verified", True, ("%s; " % probed if probed else "")
                      + "%s answers (status %d) with X-Pinwheel-Slot: %s" % (check, status, slot))


def probe_state(settings, probe):
    """(detail when the probe can verify a switch, else None; the detail otherwise; its fix). Once the upstream file
    has the probe's server block, the probe must answer with X-Pinwheel-Slot; before, its address must be free for
    nginx to listen on."""
    upstream = settings.get("upstream") or ""
    try:
        with open(upstream) as handle:
            written = ("listen %s;" % probe) in handle.read()
    except (OSError, UnicodeDecodeError):
        written = False
    host, _, port = probe.rpartition(":")
    host = host.strip("[]")
    if not written:
        if port_answers(host, port):
            return (None, "something already listens on %s, where nginx must listen for Pinwheel's probe "
                          "(`nginx.probe`): the first switch's `nginx -t` or reload would fail" % probe,
                    "stop what listens there, or set `probe:` under `nginx` to a free address, or `probe: off`")
        return ("Pinwheel's probe %s is free; the first switch writes it into %s" % (probe, upstream), None, None)
    try:
        status, headers = http_head("http://%s/" % probe)
    except Exception as error:
        return (None, "Pinwheel's probe %s (in %s) does not answer: %s; every switch would fail its verification "
                      "and be undone" % (probe, upstream, error),
                "reload nginx so that it loads %s (see `upstream included`)" % upstream)
    slot = headers.get("x-pinwheel-slot")
    if slot is None:
        return (None, "%s answers (status %d) without X-Pinwheel-Slot: it is not Pinwheel's probe, which %s "
                      "declares" % (probe, status, upstream),
                "stop what listens on %s, or set `probe:` under `nginx` to a free address, then reload nginx" % probe)
    return ("Pinwheel's probe %s answers (status %d) with X-Pinwheel-Slot: %s" % (probe, status, slot), None, None)


def port_answers(host, port):
    """Whether something accepts TCP connections on host:port."""
    import socket
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


# ---- disk -----------------------------------------------------------------------------------------------------

def folder_bytes(path):
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def check_disk(report, root, environment, slot_bytes):
    """Room for two new builds beside what is there: each the size of the largest build so far, at least
    `slot_bytes`."""
    slots = os.path.join(root, environment, "slots")
    largest = 0
    try:
        for name in os.listdir(slots):
            path = os.path.join(slots, name)
            if not os.path.islink(path) and os.path.isdir(path):
                largest = max(largest, folder_bytes(path))
    except OSError:
        pass
    needed = 2 * max(largest, slot_bytes)
    where = existing_ancestor(root)
    stats = os.statvfs(where)
    free = stats.f_bavail * stats.f_frsize
    report.add("disk", free >= needed, "%d MiB free at %s, %d MiB needed for two slots" % (
        free // MIB, where, needed // MIB),
        "free %d MiB on the file system of %s, or set `root:` to a larger one" % ((needed - free) // MIB + 1, where))
    if os.path.isdir(root):
        problem = unsafe(root) or writable(root)
    else:
        problem = writable(where)
        problem = problem and "%s does not exist and cannot be made: %s" % (root, problem)
    report.add("root", problem is None, "%s is writable" % root if problem is None else problem, folder_fix(root))


# ---- the request ----------------------------------------------------------------------------------------------

def examine(request):
    """Every check, in order; the host's time is read first, so the controller can compare clocks."""
    now = time.time()
    report = Report()
    settings = request["settings"]
    shipped_uv = request.get("shippedUV")
    uv = check_uv(report, shipped_uv)
    # The environment's interpreter, then each slot's own one when it has another (`slots: {B: {python: ...}}`).
    for interpreter in request.get("interpreters") or [{"name": "python", "path": request["python"]}]:
        check_python(report, interpreter["path"], uv, interpreter["name"], shipped_uv)
    check_supervisor(report, settings["supervisor"], request["app"], request["environment"])
    check_nginx(report, settings["nginx"], request["app"])
    check_switch(report, settings["nginx"], request["app"], request.get("probed", True))
    check_disk(report, settings["root"], request["environment"], int(request["slotBytes"]))
    return {"protocol": PROTOCOL, "ok": True, "time": now, "checks": report.checks}


def handle(request):
    if not isinstance(request, dict) or request.get("protocol") != PROTOCOL:
        return {"protocol": PROTOCOL, "ok": False, "error": "the doctor speaks protocol %d; the request is not it" % PROTOCOL}
    try:
        return examine(request)
    except (KeyError, TypeError, ValueError) as error:
        return {"protocol": PROTOCOL, "ok": False, "error": "malformed request: %s: %s" % (type(error).__name__, error)}
    except Exception as error:
        return {"protocol": PROTOCOL, "ok": False, "error": "the doctor failed: %s: %s" % (type(error).__name__, error)}


def main(encoded):
    try:
        request = json.loads(base64.b64decode(encoded).decode("utf-8"))
    except Exception as error:
        result = {"protocol": PROTOCOL, "ok": False, "error": "the request is not base64 JSON: %s" % error}
    else:
        result = handle(request)
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
