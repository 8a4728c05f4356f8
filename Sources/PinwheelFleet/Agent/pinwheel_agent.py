# Pinwheel's host agent: sent over SSH (or run locally) with its request, one script per phase.
# Standard library only, Python 3.7+. Every value arrives as JSON, never through a shell; only the commands
# that are commands by design (supervisor ctl, nginx test/reload) are run by a shell.
# Observing must be cheap (it runs on every host on every reconcile), so only light modules are imported here;
# the heavy ones (subprocess, shutil, tempfile, ...) are imported where a step needs them, and HTTP and XML-RPC
# are spoken directly over sockets instead of through http.client, whose import alone costs ~35 ms.
import base64
import fcntl
import json
import os
import socket
import sys
import threading
import time

MARKER = "PINWHEEL-RESULT "


class StepFailed(Exception):
    pass


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
    connection = socket.create_connection((host, int(port or 80)), timeout=timeout)
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
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(60)
            connection.connect(self.path)
        else:
            connection = socket.create_connection(self.address, timeout=60)
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
    each supervisorctl costs ~0.2 s of CPU), and through the `ctl` command otherwise."""

    def __init__(self, ctl, shell):
        self.ctl_command = ctl
        self.shell = shell
        self.proxy = None
        try:
            url = self.server_url(ctl)
            if url:
                self.proxy = self.connect(url)
                self.proxy.call("supervisor.getState")
        except Exception:
            self.proxy = None

    @staticmethod
    def server_url(ctl):
        import shlex
        words = shlex.split(ctl)
        if not words or os.path.basename(words[0]) != "supervisorctl":
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
                import configparser
                parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
                parser.read(path)
                if parser.has_option("supervisorctl", "username"):
                    return None
                if parser.has_option("supervisorctl", "serverurl"):
                    return parser.get("supervisorctl", "serverurl").strip()
                if parser.has_option("unix_http_server", "file"):
                    return "unix://" + parser.get("unix_http_server", "file").strip()
            except Exception:
                continue
        return None

    @staticmethod
    def connect(url):
        if url.startswith("unix://"):
            return XMLRPC(path=url[len("unix://"):])
        if url.startswith("http://"):
            host, _, port = url[len("http://"):].rstrip("/").partition(":")
            return XMLRPC(address=(host, int(port or 80)))
        return None

    def ctl(self, *words):
        import shlex
        return self.shell(self.ctl_command + " " + " ".join(shlex.quote(w) for w in words))

    def states(self):
        """Process states by group name, and a problem when supervisord cannot be asked."""
        states = {}
        if self.proxy is not None:
            try:
                for info in self.proxy.call("supervisor.getAllProcessInfo"):
                    states.setdefault(info["group"], []).append(info["statename"])
                return states, None
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
        if self.proxy is None:
            code, text = self.ctl("update")
            if code != 0:
                raise StepFailed("supervisorctl update failed:\n" + text.strip())
            return
        try:
            added, changed, removed = self.proxy.call("supervisor.reloadConfig")[0]
            # Stop every outgoing group at once and wait for all of them, instead of one `wait=True` stop per group,
            # each of which costs a tick of supervisord's one-second loop.
            stopping = set(removed + changed)
            for group in stopping:
                try:
                    self.proxy.call("supervisor.stopProcessGroup", group, False)
                except Exception:
                    pass
            deadline = time.time() + 30
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
            raise StepFailed("supervisord could not load the new config: %s" % error)

    def start_group(self, group):
        if self.proxy is None:
            code, text = self.ctl("start", group + ":*")
            return text.strip() if code != 0 and "already started" not in text else None
        try:
            self.proxy.call("supervisor.startProcessGroup", group, False)
            return None
        except Exception as error:
            return str(error)


class Agent:
    def __init__(self, request):
        self.request = request
        self.env = request["environment"]
        self.app = request["app"]
        self.base = os.path.join(request["root"], self.env)
        self.slots_dir = os.path.join(self.base, "slots")
        self.log_dir = os.path.join(self.base, "logs")
        self.supervisor = request["supervisor"]
        self.nginx = request["nginx"]
        self.specs = request["slots"]
        self.health = request["health"]
        self.commit = request.get("commit")
        self.output = []
        self.supervisord = Supervisor(self.supervisor["ctl"], self.shell)

    # ---- helpers -------------------------------------------------------------------------------------

    def say(self, text):
        self.output.append(text)

    def shell(self, command, timeout=120):
        """Runs a command that is a command by design (from the config), through the shell."""
        import subprocess
        completed = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=timeout, universal_newlines=True)
        return completed.returncode, completed.stdout

    def run(self, argv, timeout=600, env=None):
        """Runs a program with arguments, no shell."""
        import subprocess
        completed = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                                   universal_newlines=True, env=env)
        return completed.returncode, completed.stdout

    def slot_link(self, slot):
        return os.path.join(self.slots_dir, slot)

    def slot_dir(self, slot, fingerprint):
        return os.path.join(self.slots_dir, "%s-%s" % (slot, fingerprint))

    def conf_path(self, slot):
        return os.path.join(self.supervisor["include"], "%s-%s-%s.conf" % (self.app, self.env, slot))

    def read_manifest(self, path):
        try:
            with open(os.path.join(path, "manifest.json")) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def write_atomically(self, path, text):
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        import tempfile
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".pinwheel-")
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)

    def http_check(self, url, timeout):
        """Status and X-Pinwheel-Slot header of a GET, or (None, None, error)."""
        try:
            status, headers = http_get(url, timeout)
            return status, headers.get("x-pinwheel-slot"), None
        except Exception as error:
            return None, None, str(error) or type(error).__name__

    def http_status(self, url, timeout):
        status, _, error = self.http_check(url, timeout)
        return status, error

    # ---- observe -------------------------------------------------------------------------------------

    def check_web(self, spec):
        """Every web process's health check, once; returns the problems."""
        checks = []
        for program in spec["programs"]:
            health = program.get("health")
            for port in program["ports"]:
                if health:
                    checks.append((program["name"], port, health))
        problems = []
        if not checks:
            return problems

        def probe(check):
            name, port, health = check
            url = "http://127.0.0.1:%d%s" % (port, health["path"])
            status, error = self.http_status(url, health["timeoutMilliseconds"] / 1000.0)
            if status != health["status"]:
                found = "status %s" % status if status is not None else error
                return "%s on port %d: %s answered %s, expected %d" % (name, port, health["path"], found, health["status"])
            return None

        results = [None] * len(checks)

        def run(index):
            results[index] = probe(checks[index])

        threads = [threading.Thread(target=run, args=(index,)) for index in range(len(checks))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        problems = [problem for problem in results if problem]
        return problems

    def observe(self, states=None, probe=True):
        """What the host has. Without `probe`, web processes are not asked for their health: after a successful
        phase, the phase's own checks said it, and skipping the requests keeps a switch cheap."""
        if states is None:
            states, supervisor_problem = self.supervisord.states()
        else:
            supervisor_problem = None
        result = {"slots": {}}
        for slot, spec in self.specs.items():
            manifest = self.read_manifest(self.slot_link(slot))
            processes = {p["supervisorName"]: states.get(p["supervisorName"], []) for p in spec["programs"]}
            problems = []
            if supervisor_problem:
                problems.append(supervisor_problem)
            if manifest is not None:
                if probe:
                    problems += self.check_web(spec)
                problems += self.process_problems(spec, states)
            else:
                problems.append("not prepared")
            result["slots"][slot] = {"manifest": manifest, "processes": processes,
                                     "healthy": manifest is not None and not problems, "problems": problems}
        routed, fingerprint = self.read_upstream()
        result["routed"] = routed
        result["routedFingerprint"] = fingerprint
        return result

    def read_upstream(self):
        try:
            with open(self.nginx["upstream"]) as handle:
                first = handle.readline()
        except OSError:
            return None, None
        fields = dict(part.split("=", 1) for part in first.split() if "=" in part)
        if not first.startswith("# pinwheel ") or fields.get("environment") != self.env:
            return None, None
        return fields.get("slot"), fields.get("fingerprint")

    # ---- steps ---------------------------------------------------------------------------------------

    def installer(self):
        import shutil
        uv = shutil.which("uv") or next((p for p in ("/usr/local/bin/uv", os.path.expanduser("~/.local/bin/uv")) if os.path.exists(p)), None)
        return uv

    def prepare(self, slot):
        import shutil
        spec = self.specs[slot]
        fingerprint = spec["fingerprint"]
        target = self.slot_dir(slot, fingerprint)
        manifest = self.read_manifest(target)
        if manifest and manifest.get("fingerprint") == fingerprint:
            self.say("slot %s: %s already built, reusing it" % (slot, os.path.basename(target)))
        else:
            self.build(slot, spec, target)
        self.write_supervisor_conf(slot, spec, target)
        # The link is the slot: renaming a new link over it is atomic, so the slot is the old build or the new, never half.
        os.makedirs(self.slots_dir, exist_ok=True)
        link = self.slot_link(slot)
        temporary = link + ".new"
        if os.path.lexists(temporary):
            os.remove(temporary)
        os.symlink(os.path.basename(target), temporary)
        os.replace(temporary, link)
        self.apply_supervisor()
        self.collect_garbage(slot, keep={os.path.basename(target)})

    def build(self, slot, spec, target):
        import datetime
        import shutil
        if os.path.exists(target):
            shutil.rmtree(target)
        os.makedirs(target)
        try:
            requirements = os.path.join(target, "requirements.txt")
            with open(requirements, "w") as handle:
                handle.write(spec["requirements"])
            venv = os.path.join(target, "venv")
            source = self.request["source"]
            if "index" in source:
                where = ["--index-url", source["index"]]
            else:
                where = ["--no-index", "--find-links", source["wheelhouse"]]
            hashes = ["--require-hashes"] if spec["hashed"] else []
            uv = self.installer()
            started = time.time()
            if uv:
                installer = "uv"
                self.checked([uv, "venv", "--quiet", "--python", self.request["python"], venv], "creating the virtualenv")
                self.checked([uv, "pip", "install", "--quiet", "--python", os.path.join(venv, "bin", "python"),
                              "--no-deps"] + hashes + where + ["-r", requirements], "installing the pins")
            else:
                installer = "pip"
                self.checked([self.request["python"], "-m", "venv", venv], "creating the virtualenv")
                self.checked([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--no-input",
                              "--disable-pip-version-check", "--no-deps"] + hashes + where + ["-r", requirements],
                             "installing the pins")
            manifest = {
                "fingerprint": spec["fingerprint"],
                "pins": [line.split(" ", 1)[0] for line in spec["requirements"].splitlines() if line],
                "commit": self.commit,
                "preparedAt": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
                "installer": installer,
            }
            self.write_atomically(os.path.join(target, "manifest.json"), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            self.say("slot %s: built %s with %s in %.1fs" % (slot, os.path.basename(target), installer, time.time() - started))
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise

    def checked(self, argv, what):
        code, text = self.run(argv)
        if code != 0:
            raise StepFailed("%s failed (exit %d):\n%s" % (what, code, text.strip()[-4000:]))

    def supervisor_conf(self, slot, spec, target):
        bin_dir = os.path.join(target, "venv", "bin")
        sections = []
        for program in spec["programs"]:
            command = program["command"].replace("%", "%%")
            words = command.split(None, 1)
            if "/" not in words[0]:
                words[0] = os.path.join(bin_dir, words[0])
            command = " ".join(words)
            name = program["supervisorName"]
            ports = program["ports"]
            lines = ["[program:%s]" % name]
            if ports:
                command = command.replace("{port}", "%(process_num)d")
                lines += ["numprocs=%d" % len(ports), "numprocs_start=%d" % ports[0]]
            else:
                lines += ["numprocs=%d" % program["processes"], "numprocs_start=0"]
            lines += [
                "command=%s" % command,
                "process_name=%(program_name)s_%(process_num)d",
                "directory=%s" % target,
                "autostart=true",
                "autorestart=true",
                "startsecs=%d" % (0 if ports else 1),
                "startretries=3",
                "stopasgroup=true",
                "killasgroup=true",
                "stopwaitsecs=10",
                "redirect_stderr=true",
                "stdout_logfile=%s" % os.path.join(self.log_dir, "%s_%%(process_num)d.log" % name),
                "stdout_logfile_maxbytes=10MB",
                "stdout_logfile_backups=2",
                "environment=PINWHEEL_ENVIRONMENT=\"%s\",PINWHEEL_SLOT=\"%s\"" % (self.env, slot),
            ]
            sections.append("\n".join(lines))
        header = "; Managed by Pinwheel: environment %s, slot %s, fingerprint %s. Do not edit.\n" % (self.env, slot, spec["fingerprint"])
        return header + "\n\n".join(sections) + "\n"

    def write_supervisor_conf(self, slot, spec, target):
        os.makedirs(self.log_dir, exist_ok=True)
        text = self.supervisor_conf(slot, spec, target)
        path = self.conf_path(slot)
        try:
            with open(path) as handle:
                if handle.read() == text:
                    return False
        except OSError:
            pass
        self.write_atomically(path, text)
        return True

    def apply_supervisor(self):
        self.supervisord.update()

    def start(self, slot):
        spec = self.specs[slot]
        target = os.path.realpath(self.slot_link(slot))
        if self.read_manifest(target) is None:
            raise StepFailed("slot %s is not prepared" % slot)
        if self.write_supervisor_conf(slot, spec, target):
            self.apply_supervisor()
        states, _ = self.supervisord.states()
        for program in spec["programs"]:
            name = program["supervisorName"]
            got = states.get(name, [])
            if got and all(state == "RUNNING" for state in got):
                continue
            if not got:
                self.apply_supervisor()
            problem = self.supervisord.start_group(name)
            if problem:
                self.say("starting %s: %s" % (name, problem))

    def slot_problems(self, spec):
        """Why the slot is not ready now: processes not RUNNING, or web processes not answering; empty when it is."""
        states, problem = self.supervisord.states()
        problems = [problem] if problem else []
        problems += self.process_problems(spec, states)
        return problems or self.check_web(spec)

    @staticmethod
    def process_problems(spec, states):
        problems = []
        for program in spec["programs"]:
            got = states.get(program["supervisorName"], [])
            if not got or any(state != "RUNNING" for state in got):
                problems.append("%s: %s" % (program["supervisorName"], ", ".join(got) or "not known to supervisord"))
        return problems

    def check(self, slot):
        spec = self.specs[slot]
        retries = max(1, self.health["retries"])
        interval = self.health["intervalMilliseconds"] / 1000.0
        problems = []
        for attempt in range(retries):
            problems = self.slot_problems(spec)
            if not problems:
                self.say("slot %s healthy after %d attempt%s" % (slot, attempt + 1, "" if attempt == 0 else "s"))
                return
            if attempt + 1 < retries:
                time.sleep(interval)
        raise StepFailed("slot %s failed its health check after %d attempts:\n  %s%s" % (
            slot, retries, "\n  ".join(problems), self.log_tail(spec)))

    def ready_to_route(self, slot, observation):
        """Whether the observation says the slot is prepared as desired and healthy, and nginx is not yet routed to it."""
        spec = self.specs[slot]
        state = observation["slots"][slot]
        manifest = state["manifest"]
        if not manifest or manifest.get("fingerprint") != spec["fingerprint"] or not state["healthy"]:
            return False
        return observation["routed"] != slot or observation["routedFingerprint"] != spec["fingerprint"]

    def verify(self, slot):
        """The slot is built exactly as the request specifies, all its processes run, and its web processes answer:
        checked once, no waiting. A host that changed since it was last observed refuses here."""
        spec = self.specs[slot]
        manifest = self.read_manifest(self.slot_link(slot))
        if manifest is None or manifest.get("fingerprint") != spec["fingerprint"]:
            raise StepFailed("slot %s is not prepared as desired" % slot)
        problems = self.slot_problems(spec)
        if problems:
            raise StepFailed("slot %s is not ready: %s" % (slot, "; ".join(problems)))

    def log_tail(self, spec):
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

    def slot_variable(self):
        return "$pinwheel_%s_slot" % self.app.replace("-", "_")

    def upstream_text(self, slot):
        spec = self.specs[slot]
        lines = ["# pinwheel environment=%s slot=%s fingerprint=%s" % (self.env, slot, spec["fingerprint"]),
                 "# Managed by Pinwheel: the active slot's web processes. Do not edit.",
                 "# %s names the slot; `add_header X-Pinwheel-Slot %s always;` lets Pinwheel verify a switch." % (
                     self.slot_variable(), self.slot_variable()),
                 "geo %s { default %s; }" % (self.slot_variable(), slot)]
        for program in spec["programs"]:
            if not program["ports"]:
                continue
            lines.append("upstream %s-%s {" % (self.app, program["name"]))
            lines += ["    server 127.0.0.1:%d;" % port for port in program["ports"]]
            lines.append("}")
        return "\n".join(lines) + "\n"

    def route(self, slot):
        path = self.nginx["upstream"]
        try:
            with open(path) as handle:
                previous = handle.read()
        except OSError:
            previous = None
        self.write_atomically(path, self.upstream_text(slot))

        def restore(reason):
            if previous is None:
                os.remove(path)
            else:
                self.write_atomically(path, previous)
            raise StepFailed(reason)

        code, text = self.shell(self.nginx["test"])
        if code != 0:
            restore("`%s` failed; the previous upstream file is back:\n%s" % (self.nginx["test"], text.strip()))
        code, text = self.shell(self.nginx["reload"])
        if code != 0:
            restore("`%s` failed; the previous upstream file is back:\n%s" % (self.nginx["reload"], text.strip()))
        check = self.nginx.get("check")
        if check:
            # nginx reloads gracefully: old workers may answer for a moment. When the server block adds the
            # X-Pinwheel-Slot header, wait until the new slot answers; otherwise any success will do.
            # Old workers may still accept a connection or two while they shut down: wait for three answers
            # from the new slot in a row.
            answer = None
            confirmed = 0
            for _ in range(250):
                status, header, error = self.http_check(check, 2)
                answer = "status %s" % status if status is not None else error
                if status is not None and 200 <= status < 400 and (header is None or header == slot):
                    confirmed += 1
                    if confirmed == 3 or header is None:
                        break
                    continue
                if status is not None and 200 <= status < 400:
                    answer = "slot %s (X-Pinwheel-Slot)" % header
                confirmed = 0
                time.sleep(0.02)
            else:
                try:
                    restore("%s answered %s through nginx after the switch to %s; switched back" % (check, answer, slot))
                finally:
                    self.shell(self.nginx["reload"])
        self.say("nginx now routes to slot %s" % slot)

    def collect_garbage(self, slot, keep):
        """Keeps the current build and the one before it, so reverting a release re-links instead of reinstalling."""
        import shutil
        builds = []
        for name in os.listdir(self.slots_dir):
            if name.startswith(slot + "-") and name not in keep:
                path = os.path.join(self.slots_dir, name)
                builds.append((os.path.getmtime(path), path))
        for _, path in sorted(builds, reverse=True)[1:]:
            shutil.rmtree(path, ignore_errors=True)

    # ---- requests ------------------------------------------------------------------------------------

    def execute(self, steps):
        os.makedirs(self.base, exist_ok=True)
        lock = open(os.path.join(self.base, ".lock"), "a")
        deadline = time.time() + self.request.get("lockTimeoutSeconds", 300)
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.time() > deadline:
                    return {"ok": False, "steps": [], "error": "another Pinwheel run holds the lock on %s" % self.base}
                time.sleep(0.1)
        done = []
        try:
            for step in steps:
                started = time.time()
                self.output = []
                try:
                    if step["action"] not in ("prepare", "start", "check", "route", "verify") or step["slot"] not in self.specs:
                        raise StepFailed("unknown step %r" % (step,))
                    getattr(self, step["action"])(step["slot"])
                except StepFailed as failure:
                    done.append({"step": step, "ok": False, "seconds": time.time() - started, "output": self.output, "error": str(failure)})
                    return {"ok": False, "steps": done, "error": str(failure), "observation": self.observe()}
                except Exception as error:
                    message = "%s: %s" % (type(error).__name__, error)
                    done.append({"step": step, "ok": False, "seconds": time.time() - started, "output": self.output, "error": message})
                    return {"ok": False, "steps": done, "error": message, "observation": self.observe()}
                done.append({"step": step, "ok": True, "seconds": time.time() - started, "output": self.output})
            return {"ok": True, "steps": done, "observation": self.observe(probe=False)}
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()


def main(encoded):
    request = json.loads(base64.b64decode(encoded).decode("utf-8"))
    agent = Agent(request)
    try:
        if request["action"] == "observe":
            observation = agent.observe()
            result = {"ok": True, "observation": observation}
            slot = request.get("routeIfReady")
            if slot and agent.ready_to_route(slot, observation):
                # The switch the plan would make anyway, in the same round trip; verified again under the lock.
                result["routed"] = agent.execute([{"action": "verify", "slot": slot}, {"action": "route", "slot": slot}])
        else:
            result = agent.execute(request["steps"])
    except Exception as error:
        result = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
