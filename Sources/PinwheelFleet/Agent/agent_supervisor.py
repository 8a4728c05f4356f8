"""supervisord, asked over its XML-RPC socket (or through `supervisorctl` when the socket cannot be found)."""
import binascii
import os
import time

from agent_wire import StepFailed, json_dumps, json_loads
from agent_system import connect, connect_unix, process_start, run_command, system_program, uptime, write_atomically
from agent_commands import resolved_command


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
