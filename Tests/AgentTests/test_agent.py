"""Unit tests of the host agent as hosts run it: its modules (Sources/PinwheelFleet/Agent/agent_*.py and
pinwheel_agent.py) joined into one payload by payload.py (test_modules.py tests each module on its own). Standard
library only.

Run from the repository root: `python3 -m unittest discover -s Tests/AgentTests -v`. They need neither supervisord
nor nginx: `supervisorctl` and `nginx` are small scripts in a folder put first in the agent's SYSTEM_PATH (the
supervisorctl prints the status file its `-c` names; nginx fails when a word holds `fail`), and web processes are
`http.server`s on free loopback ports.
"""
import atexit
import base64
import contextlib
import fcntl
import http.server
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client

import payload

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")

# No __pycache__ beside the agent: that folder is a Swift target's sources, where SwiftPM would see a stray file.
sys.dont_write_bytecode = True
# The agent as hosts run it: its modules joined into one program text (payload.py), here a module of its own.
agent = payload.load()

# The test doubles of the host's supervisorctl and nginx, found first where the agent looks for system programs.
FAKE_SYSTEM = tempfile.mkdtemp(prefix="pinwheel-agent-tests-")
atexit.register(shutil.rmtree, FAKE_SYSTEM, True)
for _name, _text in (
        ("supervisorctl", '#!/bin/sh\nif [ "$1" = -c ] && [ "${2%%.status}" != "$2" ] && [ "$3" = status ]; then cat "$2"; fi\n'
                          'echo "$*" >> "%s/supervisorctl.calls"\nexit 0\n' % FAKE_SYSTEM),
        ("nginx", '#!/bin/sh\ncase "$*" in *fail*) echo "emerg: bad upstream"; exit 1;; esac\nexit 0\n')):
    with open(os.path.join(FAKE_SYSTEM, _name), "w") as _handle:
        _handle.write(_text)
    os.chmod(os.path.join(FAKE_SYSTEM, _name), 0o755)
agent.SYSTEM_PATH = (FAKE_SYSTEM,) + agent.SYSTEM_PATH
# The payload as a file, for the tests that run it in a new interpreter as the loader does.
PAYLOAD_PATH = os.path.join(FAKE_SYSTEM, "pinwheel_agent.py")
with open(PAYLOAD_PATH, "w") as _handle:
    _handle.write(payload.source())
# A supervisorctl `-c` that names no file: no socket is found, and the fake prints no status.
NO_SUPERVISOR = "supervisorctl -c /nonexistent/supervisord.conf"

FINGERPRINT_A = "a" * 64
FINGERPRINT_B = "b" * 64


def slot_spec(slot, web_ports=(8100, 8101), health_path="/healthz"):
    """A slot spec as the Swift side sends it: a web program on `web_ports` and a worker."""
    return {
        "environment": "production", "app": "hello", "slot": slot, "python": "/usr/bin/python3",
        "source": {"index": "http://127.0.0.1:8080/simple/"},
        "requirements": "hello-service==1.0.0\nhello-worker==2.1.0\n", "hashed": False,
        "programs": [
            {"name": "web", "supervisorName": "hello-web-%s" % slot, "command": "hello-service --port {port}",
             "processes": len(web_ports), "ports": list(web_ports),
             "health": {"path": health_path, "status": 200, "timeout": "1s"}},
            {"name": "worker", "supervisorName": "hello-worker-%s" % slot, "command": "hello-worker",
             "processes": 1, "ports": []},
        ],
    }


def make_request(root, action="execute", steps=(), ctl=NO_SUPERVISOR, web_ports=(8100, 8101), **overrides):
    """A complete protocol 2 request for environment production of app hello, rooted in `root`."""
    request = {
        "protocol": 2, "action": action, "steps": list(steps), "environment": "production", "app": "hello",
        "settings": {
            "user": "deploy", "port": 22,
            "root": root,
            "supervisor": {"include": os.path.join(root, "supervisor"), "ctl": ctl},
            "nginx": {"upstream": os.path.join(root, "nginx", "hello.conf"), "test": "nginx -t", "reload": "nginx -s reload"},
        },
        "slots": {
            "A": {"fingerprint": FINGERPRINT_A, "spec": slot_spec("A", web_ports)},
            "B": {"fingerprint": FINGERPRINT_B, "spec": slot_spec("B", [port + 100 for port in web_ports])},
        },
        "health": {"retries": 5, "interval": "50ms"},
        "commit": "3f2a",
        "lockTimeoutSeconds": 600,
    }
    request.update(overrides)
    return request


def fake_supervisorctl(directory, running):
    """A `ctl` command that reports the processes of the groups `running` (name -> ports) as RUNNING: the fake
    supervisorctl prints the status file its `-c` names (outside the deploy root `directory`, as the agent demands)."""
    handle, path = tempfile.mkstemp(suffix=".status", dir=FAKE_SYSTEM)
    lines = ["%s:%s_%d RUNNING pid 1, uptime 0:00:01" % (group, group, port)
             for group, ports in running.items() for port in ports]
    with os.fdopen(handle, "w") as stream:
        stream.write("\n".join(lines) + "\n")
    return "supervisorctl -c %s" % path


@contextlib.contextmanager
def web_server(statuses, headers=None, asked=None):
    """An HTTP server on a free loopback port answering GETs with `statuses` in turn (the last one repeats); each
    request's path is appended to `asked`."""
    answers = list(statuses)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if asked is not None:
                asked.append(self.path)
            status = answers.pop(0) if len(answers) > 1 else answers[0]
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()

        def log_message(self, *arguments):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def golden(name):
    with open(os.path.join(GOLDEN, name)) as handle:
        return handle.read()


class TestCase(unittest.TestCase):
    def setUp(self):
        self.temporary = tempfile.TemporaryDirectory()
        self.root = self.temporary.name
        self.addCleanup(self.temporary.cleanup)


class ParseDurationTests(unittest.TestCase):
    def test_units(self):
        self.assertAlmostEqual(agent.parse_duration("500ms"), 0.5)
        self.assertEqual(agent.parse_duration("2s"), 2.0)
        self.assertEqual(agent.parse_duration("1.5s"), 1.5)
        self.assertEqual(agent.parse_duration("1m"), 60.0)
        self.assertEqual(agent.parse_duration("1h"), 3600.0)
        self.assertEqual(agent.parse_duration("0s"), 0.0)

    def test_rejects_what_the_config_does_not_write(self):
        for text in ("", "5", "ms", "s", "1.2.3s", "-1s", "1d", "1e3s", " 1s", "1 s", "nans", ".s", 5, None):
            with self.assertRaises(ValueError, msg=repr(text)):
                agent.parse_duration(text)


class TextTests(TestCase):
    """The files the agent writes for supervisord and nginx, against golden files."""

    def test_supervisor_program_config(self):
        host = agent.Agent(make_request("/srv/pinwheel"))
        target = "/srv/pinwheel/production/slots/A-" + FINGERPRINT_A
        self.assertEqual(host.programs.supervisor_conf("A", target), golden("supervisor-hello-production-A.conf"))

    def settings_request(self, root="/srv/pinwheel"):
        request = make_request(root)
        web, worker = request["slots"]["A"]["spec"]["programs"]
        web["settings"] = {
            "environment": {"DJANGO_SETTINGS_MODULE": "hello.settings", "BIND": "127.0.0.1:{port}",
                            "COLOR": "{slot}", "TRICKY": 'say "100%" \\ done, ok', "QUOTE": "it's {port}"},
            "envFile": "/etc/hello/secrets.env", "user": "www-data", "directory": "/srv/hello",
            "stopSignal": "QUIT", "stopTimeout": "30s"}
        worker["settings"] = {"startSeconds": 3, "stopTimeout": "1500ms"}
        return request

    def test_supervisor_program_config_with_settings(self):
        host = agent.Agent(self.settings_request())
        target = "/srv/pinwheel/production/slots/A-" + FINGERPRINT_A
        self.assertEqual(host.programs.supervisor_conf("A", target), golden("supervisor-hello-production-A-settings.conf"))

    def test_supervisord_reads_the_settings_back_as_written(self):
        """supervisord's own parser (Debian's, as on the hosts) gets every variable exactly, quotes and all."""
        import subprocess
        host = agent.Agent(self.settings_request(self.root))
        os.makedirs(host.deployment.log_dir)
        path = os.path.join(self.root, "supervisord.conf")
        with open(path, "w") as handle:
            handle.write("[supervisord]\n" + host.programs.supervisor_conf("A", "/srv/slot"))
        script = (
            "import json, sys\n"
            "from supervisor.options import ServerOptions\n"
            "options = ServerOptions()\n"
            "options.configfile = sys.argv[1]\n"
            "options.process_config(do_usage=False)\n"
            "print(json.dumps({p.name: {'env': p.environment, 'command': p.command, 'user': p.uid, 'dir': p.directory,"
            " 'stopsignal': p.stopsignal, 'stopwaitsecs': p.stopwaitsecs, 'startsecs': p.startsecs}"
            " for g in options.process_group_configs for p in g.process_configs}))\n")
        completed = subprocess.run(["/usr/bin/python3", "-c", script, path], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(completed.returncode, 0, completed.stdout)
        processes = json.loads(completed.stdout.strip().splitlines()[-1])
        web = processes["hello-web-A_8101"]
        self.assertEqual(web["env"], {"PINWHEEL_ENVIRONMENT": "production", "PINWHEEL_SLOT": "A",
                                      "DJANGO_SETTINGS_MODULE": "hello.settings", "BIND": "127.0.0.1:8101",
                                      "COLOR": "A", "TRICKY": 'say "100%" \\ done, ok',
                                      "QUOTE": "it's 8101"})
        self.assertEqual(web["command"], "/bin/sh -c 'set -a; . \"$0\"; set +a; exec \"$@\"' /etc/hello/secrets.env "
                                         "/srv/slot/venv/bin/hello-service --port 8101")
        self.assertEqual((web["dir"], web["stopsignal"], web["stopwaitsecs"], web["startsecs"]), ("/srv/hello", 3, 30, 0))
        worker = processes["hello-worker-A_0"]
        self.assertEqual((worker["dir"], worker["stopwaitsecs"], worker["startsecs"]), ("/srv/slot", 2, 3))

    def test_nginx_upstream_file(self):
        host = agent.Agent(make_request("/srv/pinwheel"))
        self.assertEqual(host.router.upstream_text("B"), golden("nginx-upstream-B.conf"))

    def test_upstream_file_reads_back_as_routed(self):
        host = agent.Agent(make_request(self.root))
        agent.write_atomically(host.deployment.nginx["upstream"], host.router.upstream_text("B"))
        self.assertEqual(host.router.read_upstream(), ("B", FINGERPRINT_B))


class BuildFileTests(TestCase):
    def test_requirements_file(self):
        host = agent.Agent(make_request(self.root))
        path = host.builder.write_requirements(host.deployment.spec("A"), self.root)
        with open(path) as handle:
            self.assertEqual(handle.read(), "hello-service==1.0.0\nhello-worker==2.1.0\n")

    def test_manifest_written_and_read(self):
        host = agent.Agent(make_request(self.root))
        written = host.builder.write_manifest("A", self.root, "uv")
        read = agent.read_manifest(self.root)
        self.assertEqual(read, written)
        self.assertEqual(read["fingerprint"], FINGERPRINT_A)
        self.assertEqual(read["pins"], ["hello-service==1.0.0", "hello-worker==2.1.0"])
        self.assertEqual(read["commit"], "3f2a")
        self.assertEqual(read["installer"], "uv")
        self.assertEqual(read["bytecode"], {"by": "installer"})
        self.assertRegex(read["preparedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        compiled = {"by": "agent", "tag": "cpython-311", "compiled": 3, "reused": 9}
        self.assertEqual(host.builder.write_manifest("A", self.root, "uv", compiled)["bytecode"], compiled)
        self.assertEqual(agent.read_manifest(self.root)["bytecode"], compiled)

    def test_missing_or_corrupt_manifest_reads_as_none(self):
        self.assertIsNone(agent.read_manifest(self.root))
        for text in ("{not json", "", "[1, 2]"):
            with open(os.path.join(self.root, "manifest.json"), "w") as handle:
                handle.write(text)
            self.assertIsNone(agent.read_manifest(self.root), text)

    def wrapper(self, path):
        """An executable at `path` that runs this interpreter: another interpreter as far as the agent can tell."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write('#!/bin/sh\nexec "%s" "$@"\n' % sys.executable)
        os.chmod(path, 0o755)
        return path

    def test_build_installs_with_the_slot_python_and_compiles_bytecode(self):
        """Bytecode is compiled at install time, so a new slot does not compile its stack inside the health window:
        by the agent itself when the slot's interpreter is its own, by the slot's interpreter when that one says
        what its bytecode is, by uv's --compile-bytecode only when it cannot."""
        for python, answers in ((sys.executable, True), ("/opt/other/bin/python3", True), ("/opt/other/bin/python3", False)):
            request = make_request(self.root)
            request["slots"]["A"]["spec"]["python"] = python
            host = agent.Agent(request)
            target = host.deployment.slot_dir("A")
            venv_python = os.path.join(target, "venv", "bin", "python")
            commands, compiled = [], []
            host.builder.installer = lambda: "/usr/local/bin/uv"

            def run(argv):
                commands.append(argv)
                if argv[1] == "venv" and answers and python != sys.executable:
                    self.wrapper(venv_python)
                return 0, ""
            host.builder.run = run
            original = agent.compile_bytecode
            agent.compile_bytecode = lambda venv, earlier, form: compiled.append((venv, form.python)) or (0, 0)
            try:
                host.builder.build("A", target)
            finally:
                agent.compile_bytecode = original
            case = (python, answers)
            self.assertEqual(commands[0][:5], ["/usr/local/bin/uv", "venv", "--quiet", "--python", python])
            self.assertEqual("--compile-bytecode" in commands[1], not answers, case)
            expected = [] if not answers else [(os.path.join(target, "venv"), None if python == sys.executable else venv_python)]
            self.assertEqual(compiled, expected, case)
            self.assertEqual(commands[1][-2:], ["-r", os.path.join(target, "requirements.txt")])
            self.assertEqual(agent.read_manifest(target)["installer"], "uv")

    def test_another_interpreters_bytecode_format_is_asked_once_and_named_as_importlib_names_it(self):
        form = agent.BytecodeFormat.of(self.wrapper(os.path.join(self.root, "other", "python3")))
        own = agent.BytecodeFormat.own()
        self.assertEqual((form.magic, form.tag, form.version), (own.magic, own.tag, own.version))
        self.assertEqual(form.python, os.path.join(self.root, "other", "python3"))
        for source in ("/srv/site/package/module.py", "/srv/site/a.b.py", "/srv/site/__init__.py", "/srv/site/noext"):
            self.assertEqual(form.cache_path(source), importlib.util.cache_from_source(source), source)
        self.assertIsNone(agent.BytecodeFormat.of(os.path.join(self.root, "no-such-python")))
        self.assertIsNone(agent.BytecodeFormat.of("/bin/true"))

    @staticmethod
    def make_site_packages(venv):
        """A venv's site-packages with a package of a good module, one in a subpackage and one that does not compile."""
        site = agent.site_packages(venv)
        os.makedirs(os.path.join(site, "package", "sub"))
        for name, text in (("good.py", "VALUE = 1\n"), ("broken.py", "def (:\n"),
                           (os.path.join("sub", "__init__.py"), "from .. import good\nNAME = 'caf\u00e9'\n")):
            with open(os.path.join(site, "package", name), "w", encoding="utf-8") as handle:
                handle.write(text)
        return site

    def test_compile_bytecode_writes_this_interpreters_pyc_files(self):
        site = self.make_site_packages(os.path.join(self.root, "venv"))
        agent.compile_bytecode(os.path.join(self.root, "venv"))
        tag = sys.implementation.cache_tag
        self.assertEqual(sorted(os.listdir(os.path.join(site, "package", "__pycache__"))), ["good.%s.pyc" % tag])
        self.assertEqual(os.listdir(os.path.join(site, "package", "sub", "__pycache__")), ["__init__.%s.pyc" % tag])

    def test_compiled_bytecode_is_what_py_compile_and_compileall_write(self):
        """The agent's own compiler (small installs) and compileall's workers (large ones) write the same files, byte
        for byte what py_compile writes, so the interpreter uses them instead of compiling again."""
        import py_compile
        for many in (False, True):
            venv = os.path.join(self.root, "venv-%s" % many)
            site = self.make_site_packages(venv)
            original = agent.COMPILE_IN_WORKERS_FROM
            agent.COMPILE_IN_WORKERS_FROM = 0 if many else 1000
            try:
                agent.compile_bytecode(venv)
            finally:
                agent.COMPILE_IN_WORKERS_FROM = original
            for name in ("good.py", os.path.join("sub", "__init__.py")):
                source = os.path.join(site, "package", name)
                expected = os.path.join(self.root, "expected.pyc")
                py_compile.compile(source, cfile=expected, doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
                with open(expected, "rb") as want, open(importlib.util.cache_from_source(source), "rb") as got:
                    self.assertEqual(got.read(), want.read(), (many, name))
        broken = os.path.join(agent.site_packages(os.path.join(self.root, "venv-False")), "package", "broken.py")
        self.assertIs(agent.compile_source(broken), False)

    def test_a_build_takes_the_bytecode_of_unchanged_files_from_the_running_builds(self):
        """A release changes a pin or two: every other file keeps the bytecode compiled for the build the slots run,
        linked when it is the same file (uv links from its cache), copied when only the bytes are equal; a file with
        other bytes is compiled, even with the same size and mtime, and so is one whose old bytecode is out of date."""
        import marshal
        import subprocess
        earlier, venv = os.path.join(self.root, "earlier"), os.path.join(self.root, "venv")
        old, new = agent.site_packages(earlier), agent.site_packages(venv)
        for site in (old, new):
            os.makedirs(os.path.join(site, "package"))
        files = {"linked.py": "def where():\n    return where.__code__.co_filename\n", "copied.py": "VALUE = 'c'\n",
                 "changed.py": "VALUE = 1\n", "outdated.py": "VALUE = 'o'\n"}
        for name, text in files.items():
            with open(os.path.join(old, "package", name), "w") as handle:
                handle.write(text)
        self.assertEqual(agent.compile_bytecode(earlier), (0, 4))
        path = lambda site, name: os.path.join(site, "package", name)
        os.link(path(old, "linked.py"), path(new, "linked.py"))
        for name, text in (("copied.py", files["copied.py"]), ("changed.py", "VALUE = 2\n"),
                           ("outdated.py", files["outdated.py"])):
            with open(path(new, name), "w") as handle:
                handle.write(text)
        moment = os.stat(path(old, "changed.py")).st_mtime
        os.utime(path(new, "changed.py"), (moment, moment))  # same size and mtime, other bytes
        os.utime(path(old, "outdated.py"), (moment + 60, moment + 60))  # its bytecode no longer matches it
        self.assertEqual(agent.compile_bytecode(venv, [earlier, os.path.join(self.root, "missing")]), (2, 2))
        pyc = lambda site, name: importlib.util.cache_from_source(path(site, name))
        self.assertEqual(os.stat(pyc(new, "linked.py")).st_ino, os.stat(pyc(old, "linked.py")).st_ino)
        with open(pyc(new, "copied.py"), "rb") as mine, open(pyc(old, "copied.py"), "rb") as theirs:
            copied, original = mine.read(), theirs.read()
        self.assertEqual(copied[:16], agent.pyc_header(os.stat(path(new, "copied.py"))))
        self.assertEqual(copied[16:], original[16:])
        for name, value in (("changed.py", 2), ("outdated.py", "o")):
            with open(pyc(new, name), "rb") as handle:
                namespace = {}
                exec(marshal.loads(handle.read()[16:]), namespace)
            self.assertEqual(namespace["VALUE"], value, name)
        # The interpreter takes every file's bytecode as valid, and names the new build's file in the code it loads.
        written = {name: os.stat(pyc(new, name)).st_mtime_ns for name in files}
        completed = subprocess.run(
            [sys.executable, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
             "from package import linked, copied, changed, outdated; "
             "print(linked.where(), copied.VALUE, changed.VALUE, outdated.VALUE)", new],
            stdout=subprocess.PIPE, universal_newlines=True, check=True)
        self.assertEqual(completed.stdout.split(), [path(new, "linked.py"), "c", "2", "o"])
        self.assertEqual({name: os.stat(pyc(new, name)).st_mtime_ns for name in files}, written)

    def test_another_interpreter_takes_the_running_builds_bytecode_and_compiles_the_rest_itself(self):
        import py_compile
        form = agent.BytecodeFormat.of(self.wrapper(os.path.join(self.root, "other", "python3")))
        earlier, venv = os.path.join(self.root, "earlier"), os.path.join(self.root, "venv")
        old, new = form.site_packages(earlier), form.site_packages(venv)
        for site in (old, new):
            os.makedirs(os.path.join(site, "package"))
        for name, text in (("kept.py", "VALUE = 'k'\n"), ("changed.py", "VALUE = 1\n")):
            with open(os.path.join(old, "package", name), "w") as handle:
                handle.write(text)
        self.assertEqual(agent.compile_bytecode(earlier, (), form), (0, 2))
        os.link(os.path.join(old, "package", "kept.py"), os.path.join(new, "package", "kept.py"))
        with open(os.path.join(new, "package", "changed.py"), "w") as handle:
            handle.write("VALUE = 22\n")
        original, commands = agent.run_command, []
        agent.run_command = lambda argv, timeout: commands.append(argv) or original(argv, timeout)
        try:
            self.assertEqual(agent.compile_bytecode(venv, [earlier], form), (1, 1))
        finally:
            agent.run_command = original
        self.assertEqual(commands, [[form.python, "-I", "-m", "compileall", "-q", new]])
        kept = os.path.join(new, "package", "kept.py")
        self.assertEqual(os.stat(form.cache_path(kept)).st_ino,
                         os.stat(form.cache_path(os.path.join(old, "package", "kept.py"))).st_ino)
        changed = os.path.join(new, "package", "changed.py")
        expected = os.path.join(self.root, "expected.pyc")
        py_compile.compile(changed, cfile=expected, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        import marshal
        with open(expected, "rb") as want, open(form.cache_path(changed), "rb") as got:
            wanted, gotten = want.read(), got.read()
        # The same header and code; the marshalled bytes may differ by reference flags, which depend on refcounts.
        self.assertEqual(gotten[:16], wanted[:16], "compiled by the other interpreter's compileall")
        self.assertEqual(marshal.loads(gotten[16:]), marshal.loads(wanted[16:]))

    def test_find_program_finds_what_shutil_which_finds(self):
        import shutil
        folder = os.path.join(self.root, "bin")
        os.makedirs(folder)
        for name, mode in (("tool", 0o755), ("plain", 0o644)):
            with open(os.path.join(folder, name), "w") as handle:
                handle.write("#!/bin/sh\n")
            os.chmod(os.path.join(folder, name), mode)
        os.makedirs(os.path.join(folder, "folder"))
        path = os.environ["PATH"]
        os.environ["PATH"] = folder + os.pathsep + path
        try:
            for name in ("tool", "plain", "folder", "sh", "pinwheel-no-such-program"):
                self.assertEqual(agent.find_program(name), shutil.which(name), name)
        finally:
            os.environ["PATH"] = path
        self.assertEqual(agent.find_program("tool"), None)

    def test_remove_tree_removes_a_build_without_following_its_links(self):
        outside = os.path.join(self.root, "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "keep.txt"), "w") as handle:
            handle.write("kept\n")
        build = os.path.join(self.root, "slots", "A-" + "e" * 64)
        os.makedirs(os.path.join(build, "venv", "lib"))
        with open(os.path.join(build, "venv", "lib", "module.py"), "w") as handle:
            handle.write("VALUE = 1\n")
        os.symlink(outside, os.path.join(build, "venv", "linked"))
        agent.remove_tree(build)
        self.assertFalse(os.path.lexists(build))
        self.assertEqual(os.listdir(outside), ["keep.txt"])
        agent.remove_tree(os.path.join(self.root, "no-such-folder"))  # nothing to remove is no error

    def test_failed_install_removes_the_new_build(self):
        host = agent.Agent(make_request(self.root))
        host.builder.installer = lambda: None
        host.builder.run = lambda argv: (1, "no such package")
        with self.assertRaises(agent.StepFailed) as raised:
            host.builder.build("A", host.deployment.slot_dir("A"))
        self.assertEqual(raised.exception.code, "install")
        self.assertIn("no such package", str(raised.exception))
        self.assertFalse(os.path.exists(host.deployment.slot_dir("A")))


    def test_without_uv_one_pip_drives_a_venv_that_has_none(self):
        host = agent.Agent(make_request(self.root))
        host.builder.installer = lambda: None
        commands = []
        host.builder.run = lambda argv: commands.append(argv) or (0, "")
        host.builder.build("A", host.deployment.slot_dir("A"))
        venv = os.path.join(host.deployment.slot_dir("A"), "venv")
        self.assertEqual(commands[1], ["/usr/bin/python3", "-m", "venv", "--without-pip", venv])
        self.assertEqual(commands[2][:5], ["/usr/bin/python3", "-m", "pip", "--python", os.path.join(venv, "bin", "python")])
        # A pip too old for `--python` (or none): the venv gets its own, as before.
        commands.clear()
        host.builder.run = lambda argv: commands.append(argv) or ((1, "") if "-c" in argv else (0, ""))
        host.builder.build("B", host.deployment.slot_dir("B"))
        venv = os.path.join(host.deployment.slot_dir("B"), "venv")
        self.assertEqual(commands[1], ["/usr/bin/python3", "-m", "venv", venv])
        self.assertEqual(commands[2][:3], [os.path.join(venv, "bin", "python"), "-m", "pip"])

    def test_a_full_disk_is_the_hosts_fault_not_an_install_failure(self):
        host = agent.Agent(make_request(self.root))
        host.builder.installer = lambda: None
        host.builder.run = lambda argv: (1, "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device")
        with self.assertRaises(agent.StepFailed) as raised:
            host.builder.build("A", host.deployment.slot_dir("A"))
        self.assertEqual(raised.exception.code, "diskFull")
        self.assertIn("disk is full", raised.exception.diagnosis)
        self.assertFalse(os.path.exists(host.deployment.slot_dir("A")))

    def test_a_leftover_build_that_cannot_be_removed_is_named(self):
        host = agent.Agent(make_request(self.root))
        target = host.deployment.slot_dir("A")
        os.makedirs(os.path.join(target, "venv"))
        host.builder.installer = lambda: None
        host.builder.run = lambda argv: self.fail("nothing is installed over a leftover: %r" % (argv,))
        original = agent.remove_tree
        agent.remove_tree = lambda path: None  # as `rm -rf` does on a folder it may not remove
        try:
            with self.assertRaises(agent.StepFailed) as raised:
                host.builder.build("A", target)
        finally:
            agent.remove_tree = original
        self.assertEqual(raised.exception.code, "install")
        self.assertIn(target, str(raised.exception))
        self.assertIn("could not be removed", str(raised.exception))


class PrepareTests(TestCase):
    def test_only_settings_changed_restarts_the_same_build_without_installing(self):
        request = make_request(self.root)
        request["slots"]["A"]["build"] = "c" * 64
        host = agent.Agent(request)
        old = os.path.join(host.deployment.slots_dir, "A-" + "d" * 64)
        os.makedirs(old)
        agent.write_atomically(os.path.join(old, "manifest.json"), json.dumps(
            {"fingerprint": "d" * 64, "build": "c" * 64, "pins": [], "servedAt": "2026-11-20T10:00:00Z"}))
        os.symlink(os.path.basename(old), host.deployment.slot_link("A"))
        host.builder.build = lambda slot, target: self.fail("installed again")
        self.assertTrue(host.builder.prepare("A"))
        manifest = agent.read_manifest(host.deployment.slot_link("A"))
        self.assertEqual((manifest["fingerprint"], manifest["build"]), (FINGERPRINT_A, "c" * 64))
        self.assertNotIn("servedAt", manifest)
        self.assertEqual(os.readlink(host.deployment.slot_link("A")), os.path.basename(old))
        self.assertIn("only program settings changed", host.deployment.output[0])
        with open(host.deployment.conf_path("A")) as handle:
            self.assertIn(old + "/venv/bin/hello-service", handle.read())

    def test_a_missing_env_file_fails_prepare_naming_it(self):
        request = make_request(self.root)
        request["slots"]["A"]["spec"]["programs"][0]["settings"] = {"envFile": os.path.join(self.root, "nope.env")}
        host = agent.Agent(request)
        os.makedirs(host.deployment.slot_dir("A"))
        host.builder.write_manifest("A", host.deployment.slot_dir("A"), "uv")
        with self.assertRaises(agent.StepFailed) as raised:
            host.builder.prepare("A")
        self.assertEqual(raised.exception.code, "envFile")
        self.assertIn(os.path.join(self.root, "nope.env") + " does not exist on this host", str(raised.exception))
        self.assertFalse(os.path.exists(host.deployment.conf_path("A")))

    def test_prepare_reuses_an_equal_build_relinks_and_keeps_the_build_before(self):
        host = agent.Agent(make_request(self.root))
        os.makedirs(host.deployment.slot_dir("A"))
        host.builder.write_manifest("A", host.deployment.slot_dir("A"), "pip")
        for age, name in ((300, "A-old1"), (200, "A-old2"), (100, "B-other")):
            os.makedirs(os.path.join(host.deployment.slots_dir, name))
            moment = time.time() - age
            os.utime(os.path.join(host.deployment.slots_dir, name), (moment, moment))
        reply = agent.handle(make_request(self.root, steps=[{"action": "prepare", "slot": "A"}]))
        self.assertTrue(reply["ok"], reply)
        self.assertIn("already built, reusing it", reply["steps"][0]["output"][0])
        self.assertEqual(os.readlink(host.deployment.slot_link("A")), "A-" + FINGERPRINT_A)
        self.assertEqual(sorted(os.listdir(host.deployment.slots_dir)), sorted(["A", "A-" + FINGERPRINT_A, "A-old2", "B-other"]))
        self.assertTrue(os.path.exists(host.deployment.conf_path("A")))
        self.assertEqual(reply["observation"]["slots"]["A"]["manifest"]["fingerprint"], FINGERPRINT_A)
        self.assertTrue(reply["steps"][0]["changed"])
        again = agent.handle(make_request(self.root, steps=[{"action": "prepare", "slot": "A"}]))
        self.assertFalse(again["steps"][0]["changed"], again)


class HookTests(TestCase):
    """Release hooks run from the slot's venv bin/ with the program's environment, without a shell."""

    def prepared(self, hooks=None, script="#!/bin/sh\necho ok\n", settings=None):
        request = make_request(self.root, hooks=hooks or {})
        if settings:
            request["slots"]["A"]["spec"]["programs"][0]["settings"] = settings
        host = agent.Agent(request)
        target = host.deployment.slot_dir("A")
        os.makedirs(os.path.join(target, "venv", "bin"))
        path = os.path.join(target, "venv", "bin", "migrate")
        with open(path, "w") as handle:
            handle.write(script)
        os.chmod(path, 0o755)
        host.builder.write_manifest("A", target, "uv")
        os.symlink(os.path.basename(target), host.deployment.slot_link("A"))
        return request, target

    def test_before_switch_runs_in_the_venv_with_the_program_environment(self):
        record = os.path.join(self.root, "record")
        script = ("#!/bin/sh\n"
                  "printf '%s|%s|%s|%s|%s|%s\\n' \"$1\" \"$2\" \"$HELLO_GREETING\" \"$PINWHEEL_SLOT\" \"$PINWHEEL_HOOK\" "
                  "\"$(pwd)\" >> " + record + "\n"
                  "echo applied 3 migrations\n")
        hook = {"command": "migrate 'two words' --plan", "timeout": "5s", "onRollback": False, "program": "web"}
        request, target = self.prepared({"beforeSwitch": hook}, script,
                                        {"environment": {"HELLO_GREETING": "hi {slot} on {port}"}})
        request["steps"] = [{"action": "beforeSwitch", "slot": "A"}]
        reply = agent.handle(request)
        self.assertTrue(reply["ok"], reply)
        with open(record) as handle:
            self.assertEqual(handle.read(), "two words|--plan|hi A on 8100|A|beforeSwitch|%s\n" % os.path.realpath(target))
        output = reply["steps"][0]["output"]
        self.assertIn("beforeSwitch: applied 3 migrations", output)
        self.assertTrue(output[-1].startswith("beforeSwitch hook `migrate 'two words' --plan` done in "), output)

    def test_a_failing_hook_fails_the_step_with_its_last_lines(self):
        script = "#!/bin/sh\nfor i in $(seq 1 30); do echo line $i; done\necho 'relation does not exist' >&2\nexit 3\n"
        request, _ = self.prepared({"afterSwitch": {"command": "migrate", "timeout": "5s", "program": "web"}}, script)
        request["steps"] = [{"action": "afterSwitch", "slot": "A"}]
        reply = agent.handle(request)
        step = reply["steps"][0]
        self.assertEqual((reply["ok"], step["code"]), (False, "hook"))
        # The diagnosis (one line, with the exit status) is apart from what the hook printed (its last lines).
        self.assertEqual(step["error"], "the afterSwitch hook `migrate` exited 3")
        self.assertIn("relation does not exist", step["detail"])
        self.assertNotIn("line 10\n", step["detail"])
        self.assertEqual(len(step["detail"].splitlines()), agent.HOOK_OUTPUT_LINES)

    def test_a_hung_hook_is_ended_at_its_timeout_with_what_it_started(self):
        marker = os.path.join(self.root, "survived")
        script = "#!/bin/sh\necho waiting\n(sleep 3; touch %s) &\nsleep 30\n" % marker
        request, _ = self.prepared({"beforeSwitch": {"command": "migrate", "timeout": "500ms", "program": "web"}}, script)
        request["steps"] = [{"action": "beforeSwitch", "slot": "A"}]
        started = time.monotonic()
        reply = agent.handle(request)
        self.assertLess(time.monotonic() - started, 3)
        step = reply["steps"][0]
        self.assertEqual(step["code"], "hook")
        self.assertIn("ran past its timeout of 500ms and was ended", step["error"])
        self.assertEqual(step["detail"], "waiting")
        time.sleep(3.5)
        self.assertFalse(os.path.exists(marker), "a process the hook started outlived it")

    def test_a_failing_prepare_hook_leaves_no_build_and_the_slot_as_it_was(self):
        request = make_request(self.root)
        request["slots"]["A"]["spec"]["prepareHook"] = {"command": "collectstatic", "timeout": "5s", "program": "web"}
        host = agent.Agent(request)

        def build(slot, target):
            os.makedirs(os.path.join(target, "venv", "bin"))
            with open(os.path.join(target, "venv", "bin", "collectstatic"), "w") as handle:
                handle.write("#!/bin/sh\necho no STATIC_ROOT\nexit 1\n")
            os.chmod(os.path.join(target, "venv", "bin", "collectstatic"), 0o755)
            host.builder.write_manifest(slot, target, "uv")
        host.builder.build = build
        with self.assertRaises(agent.StepFailed) as raised:
            host.builder.prepare("A")
        self.assertEqual(raised.exception.code, "hook")
        self.assertIn("no STATIC_ROOT", str(raised.exception))
        self.assertFalse(os.path.exists(host.deployment.slot_dir("A")))
        self.assertFalse(os.path.lexists(host.deployment.slot_link("A")))


class LogsAndExecTests(TestCase):
    """`logs` and `exec` replace the agent with `tail` or the command: run here in a child process, as over SSH."""

    def run_agent(self, request):
        import subprocess
        encoded = base64.b64encode(json.dumps(request).encode()).decode()
        script = ("import sys\nagent = {'__name__': 'pinwheel_agent'}\n"
                  "exec(compile(open(%r).read(), 'pinwheel_agent.py', 'exec'), agent)\n"
                  "agent['main'](sys.argv[1])\n" % PAYLOAD_PATH)
        return subprocess.run([sys.executable, "-B", "-c", script, encoded], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=20)

    def prepared(self):
        request = make_request(self.root)
        request["slots"]["A"]["spec"]["programs"][0]["settings"] = {"environment": {"HELLO_GREETING": "hi {slot} {port}"}}
        host = agent.Agent(request)
        target = host.deployment.slot_dir("A")
        os.makedirs(os.path.join(target, "venv", "bin"))
        os.symlink(sys.executable, os.path.join(target, "venv", "bin", "python"))
        host.builder.write_manifest("A", target, "uv")
        os.symlink(os.path.basename(target), host.deployment.slot_link("A"))
        return request, target

    def test_exec_passes_every_argument_verbatim_with_the_program_environment(self):
        request, target = self.prepared()
        hostile = ["$(touch %s/owned)" % self.root, "a b", "'; rm -rf /; '", '"', "--", "*", "\\n", "ünï"]
        request.update(action="exec", exec={"slot": "A", "argv": [
            "python", "-c", "import json, os, sys; print(json.dumps([sys.argv[1:], os.environ['HELLO_GREETING'], "
            "os.environ['PINWHEEL_SLOT'], os.getcwd()])); sys.exit(7)"] + hostile})
        completed = self.run_agent(request)
        self.assertEqual(completed.returncode, 7, completed.stderr)
        self.assertEqual(json.loads(completed.stdout), [hostile, "hi A 8100", "A", os.path.realpath(target)])
        self.assertFalse(os.path.exists(os.path.join(self.root, "owned")))

    def test_exec_in_a_slot_not_prepared_answers_with_an_error(self):
        request = make_request(self.root, action="exec", exec={"slot": "B", "argv": ["python", "-V"]})
        completed = self.run_agent(request)
        line = completed.stdout.strip().splitlines()[-1]
        self.assertTrue(line.startswith(agent.MARKER), completed.stdout)
        reply = json.loads(line[len(agent.MARKER):])
        self.assertEqual((reply["ok"], reply["code"]), (False, "notPrepared"))

    def test_logs_prints_the_last_lines_of_each_process_after_its_header(self):
        request, _ = self.prepared()
        host = agent.Agent(request)
        os.makedirs(host.deployment.log_dir)
        for name, lines in (("hello-web-A_8100", ["one", "two", "three"]), ("hello-worker-A_0", ["tick"])):
            with open(os.path.join(host.deployment.log_dir, name + ".log"), "w") as handle:
                handle.write("".join(line + "\n" for line in lines))
        request.update(action="logs", logs={"slots": ["A"], "programs": [], "lines": 2, "follow": False})
        completed = self.run_agent(request)
        self.assertEqual(completed.returncode, 0, completed.stderr)  # hello-web-A_8101.log, not there yet, is left out
        self.assertIn("==> %s/hello-web-A_8100.log <==\ntwo\nthree\n" % host.deployment.log_dir, completed.stdout)
        self.assertIn("==> %s/hello-worker-A_0.log <==\ntick\n" % host.deployment.log_dir, completed.stdout)
        request["logs"]["programs"] = ["nothing"]
        self.assertIn('"code": "notPrepared"', self.run_agent(request).stdout)


class HTTPTests(unittest.TestCase):
    def test_http_get_status_and_headers(self):
        with web_server([204], {"X-Pinwheel-Slot": "B"}) as port:
            status, headers = agent.http_get("http://127.0.0.1:%d/healthz?deep=1" % port, 2)
        self.assertEqual(status, 204)
        self.assertEqual(headers["x-pinwheel-slot"], "B")

    def test_http_get_refuses_https(self):
        with self.assertRaises(ValueError):
            agent.http_get("https://127.0.0.1/", 1)


class LightModuleTests(TestCase):
    """The agent's stand-ins for json, socket, threading, shlex, subprocess and tempfile behave as those modules."""

    VALUES = [
        {"a": [1, 2.5, -3, 1e100, True, False, None], "b": {"c": "d"}},
        ["caf\u00e9 \u2603 \U0001f600", "quote \" backslash \\ slash / tab \t nl \n", ""],
        {}, [], 0, -1.25, "plain", 12345678901234567890,
    ]

    def test_json_round_trips_as_the_json_module_does(self):
        for value in self.VALUES:
            text = json.dumps(value)
            self.assertEqual(agent.json_dumps(value), text)
            self.assertEqual(agent.json_dumps(value, sort_keys=True), json.dumps(value, sort_keys=True))
            self.assertEqual(agent.json_loads(text), value)
            self.assertEqual(agent.json_loads("  \n%s\n " % json.dumps(value, indent=2)), value)

    def test_json_refuses_what_json_refuses(self):
        for text in ("", "{", '{"a": 1} x', "[1,]", "nope", '"unterminated'):
            with self.assertRaises(ValueError):
                agent.json_loads(text)
        with self.assertRaises(TypeError):
            agent.json_dumps({"a": object()})

    @staticmethod
    def run_in_a_new_interpreter(request, environment=None):
        """The agent's reply to `request` and the modules it imported, run as the loader runs it: with `-I -S`, the
        agent executed in a fresh namespace (the test doubles first in its SYSTEM_PATH), then main."""
        import subprocess
        encoded = base64.b64encode(json.dumps(request).encode()).decode()
        script = ("import sys\nbefore = set(sys.modules)\nmodule = {'__name__': 'pinwheel_agent'}\n"
                  "exec(compile(open(sys.argv[1]).read(), 'pinwheel_agent.py', 'exec'), module)\n"
                  "module['SYSTEM_PATH'] = (%r,) + module['SYSTEM_PATH']\n" % FAKE_SYSTEM +
                  "module['main'](sys.argv[2])\nprint(sorted(set(sys.modules) - before))\n")
        completed = subprocess.run([sys.executable, "-I", "-S", "-c", script, PAYLOAD_PATH, encoded], env=environment,
                                   stdout=subprocess.PIPE, universal_newlines=True, check=True)
        reply = json.loads(completed.stdout.split(agent.MARKER, 1)[1].splitlines()[0])
        return reply, completed.stdout.strip().splitlines()[-1]

    def test_observing_imports_no_python_module_that_imports_re_or_enum(self):
        """What the module documentation promises: observing stays cheap."""
        reply, imported = self.run_in_a_new_interpreter(make_request(self.root, action="observe"))
        self.assertTrue(reply["ok"], reply)
        for heavy in ("'re'", "'enum'", "'json'", "'socket'", "'threading'", "'subprocess'", "'collections'"):
            self.assertNotIn(heavy, imported)

    def test_preparing_a_slot_imports_no_python_module_that_imports_re_or_enum(self):
        """A release prepares a slot on every host at once: building it (with uv, whose stand-in here makes the venv),
        compiling its bytecode, removing the build before the last one and starting it stay as cheap as observing."""
        tools = os.path.join(self.root, "tools")
        os.makedirs(tools)
        with open(os.path.join(tools, "uv"), "w") as handle:
            handle.write('#!/bin/sh\nset -e\nif [ "$1" = venv ]; then for last; do :; done\n'
                         'mkdir -p "$last/lib/python%d.%d/site-packages/hello"\n'
                         'echo "VALUE = 1" > "$last/lib/python%d.%d/site-packages/hello/__init__.py"; fi\n'
                         % (sys.version_info[:2] * 2))
        os.chmod(os.path.join(tools, "uv"), 0o755)
        request = make_request(self.root, steps=[{"action": "prepare", "slot": "A"}, {"action": "start", "slot": "A"}])
        request["slots"]["A"]["spec"]["python"] = sys.executable
        slots = agent.Agent(request).deployment.slots_dir
        for age, name in ((300, "A-old1"), (200, "A-old2")):
            os.makedirs(os.path.join(slots, name, "venv"))
            os.utime(os.path.join(slots, name), (time.time() - age, time.time() - age))
        reply, imported = self.run_in_a_new_interpreter(
            request, dict(os.environ, PATH=tools + os.pathsep + os.environ["PATH"]))
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(sorted(os.listdir(slots)), ["A", "A-" + FINGERPRINT_A, "A-old2"])
        built = os.path.join(agent.site_packages(os.path.join(slots, "A-" + FINGERPRINT_A, "venv")), "hello",
                             "__pycache__")
        self.assertEqual(os.listdir(built), ["__init__.%s.pyc" % sys.implementation.cache_tag])
        for heavy in ("'re'", "'enum'", "'shutil'", "'compileall'", "'py_compile'", "'subprocess'", "'collections'",
                      "'json'", "'socket'", "'threading'"):
            self.assertNotIn(heavy, imported)

    def test_configured_commands_are_argument_vectors_of_the_programs_they_exist_for(self):
        root = "/srv/pinwheel"
        for command, what, words in (
                ("supervisorctl -c /etc/supervisor/supervisord.conf", "supervisor.ctl",
                 ["supervisorctl", "-c", "/etc/supervisor/supervisord.conf"]),
                ("  sudo -n  /usr/bin/supervisorctl --serverurl=unix:///run/s.sock", "supervisor.ctl",
                 ["sudo", "-n", "/usr/bin/supervisorctl", "--serverurl=unix:///run/s.sock"]),
                ("nginx -t -c /etc/nginx/nginx.conf", "nginx.test", ["nginx", "-t", "-c", "/etc/nginx/nginx.conf"]),
                ("sudo systemctl reload nginx", "nginx.reload", ["sudo", "systemctl", "reload", "nginx"])):
            self.assertEqual(agent.command_words(command, what, root), words)

    def test_a_configured_command_that_is_not_its_program_or_not_plain_is_refused_saying_why(self):
        root = "/srv/pinwheel"
        for command, what, said in (
                ("true", "supervisor.ctl", "must run supervisorctl"),
                ("sh -c supervisorctl", "supervisor.ctl", "must run supervisorctl"),
                ("sudo -s supervisorctl", "supervisor.ctl", "must run supervisorctl"),
                ("/tmp/x/supervisorctl", "supervisor.ctl", "must run supervisorctl"),
                ("supervisorctl; touch /tmp/x", "supervisor.ctl", "not a plain word"),
                ("supervisorctl -c /etc/s.conf status", "supervisor.ctl", "only give supervisorctl"),
                ("nginx -t -c $(touch /tmp/x)", "nginx.test", "not a plain word"),
                ("python3 -c print", "nginx.reload", "must run nginx or systemctl or service"),
                ("nginx -t -c /srv/pinwheel/production/slots/A/venv/evil.conf", "nginx.test", "inside the deploy root"),
                ("nginx -t -c /etc/../srv/pinwheel/evil.conf", "nginx.test", "inside the deploy root"),
                ("supervisorctl --configuration=/srv/pinwheel/x.conf", "supervisor.ctl", "inside the deploy root"),
                ("", "nginx.test", "is empty")):
            with self.assertRaisesRegex(agent.BadRequest, said, msg=command):
                agent.command_words(command, what, root)

    def test_a_configured_command_runs_its_programs_by_their_absolute_paths(self):
        self.assertEqual(agent.resolved_command(["nginx", "-t"], "nginxTest"), [os.path.join(FAKE_SYSTEM, "nginx"), "-t"])
        with self.assertRaisesRegex(agent.StepFailed, "systemctl-missing is not installed"):
            agent.resolved_command(["systemctl-missing", "reload"], "nginxReload")

    def test_run_together_returns_results_in_order_and_raises_a_failure(self):
        self.assertEqual(agent.run_together([lambda n=n: (time.sleep(0.01 * (3 - n)), n)[1] for n in range(3)]),
                         [0, 1, 2])
        self.assertEqual(agent.run_together([]), [])
        with self.assertRaises(KeyError):
            agent.run_together([lambda: 1, lambda: {}["missing"]])

    def test_run_command_gives_status_and_both_outputs(self):
        code, text = agent.run_command(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], 5)
        self.assertEqual((code, sorted(text.split())), (3, ["err", "out"]))
        code, text = agent.run_command(["/bin/sh", "-c", "read line; echo \"[$line]\""], 5)
        self.assertEqual((code, text), (0, "[]\n"))
        code, _ = agent.run_command(["/bin/sh", "-c", "kill -TERM $$"], 5)
        self.assertEqual(code, -15)
        with self.assertRaises(FileNotFoundError):
            agent.run_command(["/nonexistent/pinwheel-no-such-program"], 5)

    def test_run_command_searches_no_path(self):
        """A program is started by its absolute path only: a PATH that a slot's bin/ (or `.`) comes first in never
        decides what runs."""
        with self.assertRaisesRegex(FileNotFoundError, "searches no PATH"):
            agent.run_command(["sh", "-c", "true"], 5)

    def test_run_command_stops_a_command_past_its_timeout(self):
        started = time.monotonic()
        with self.assertRaises(TimeoutError):
            agent.run_command(["/bin/sleep", "30"], 0.3)
        self.assertLess(time.monotonic() - started, 5)

    def test_write_atomically_replaces_the_file_and_leaves_nothing_beside_it(self):
        path = os.path.join(self.root, "sub", "file.txt")
        agent.write_atomically(path, "one\n")
        agent.write_atomically(path, "two\n")
        with open(path) as handle:
            self.assertEqual(handle.read(), "two\n")
        self.assertEqual(os.listdir(os.path.dirname(path)), ["file.txt"])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)

    def test_connect_reaches_a_loopback_server_by_name_and_address(self):
        with web_server([200], {}) as port:
            for host in ("127.0.0.1", "localhost"):
                connection = agent.connect(host, port, 2)
                connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
                self.assertTrue(connection.recv(100).startswith(b"HTTP/1."))
                connection.close()
        with self.assertRaises(OSError):
            agent.connect("127.0.0.1", port, 1)  # the server is gone


class SupervisorURLTests(TestCase):
    def write_config(self, text):
        config = os.path.join(self.root, "supervisord.conf")
        with open(config, "w") as handle:
            handle.write(text)
        return config

    def test_the_url_comes_from_the_options_or_the_config(self):
        config = self.write_config("[unix_http_server]\nfile=/run/s.sock ; a comment\n")
        self.assertEqual(agent.Supervisor.server_url("supervisorctl -c %s" % config), "unix:///run/s.sock")
        self.assertEqual(agent.Supervisor.server_url("supervisorctl -s http://127.0.0.1:9001"), "http://127.0.0.1:9001")
        self.assertEqual(agent.Supervisor.server_url("sudo -n supervisorctl -c %s" % config), "unix:///run/s.sock")
        self.assertIsNone(agent.Supervisor.server_url("supervisorctl -u admin -c %s" % config))
        self.write_config("[supervisorctl]\nusername=admin\n[unix_http_server]\nfile=/run/s.sock\n")
        self.assertIsNone(agent.Supervisor.server_url("supervisorctl -c %s" % config))

    def test_what_the_config_says_is_kept_until_it_changes(self):
        cache = os.path.join(self.root, "cache")
        config = self.write_config("[unix_http_server]\nfile=/run/one.sock\n")
        ctl = "supervisorctl -c %s" % config
        self.assertEqual(agent.Supervisor.server_url(ctl, cache), "unix:///run/one.sock")
        self.assertEqual(len(os.listdir(cache)), 1)
        self.assertEqual(agent.Supervisor.server_url(ctl, cache), "unix:///run/one.sock")
        self.write_config("[unix_http_server]\nfile=/run/other.sock\n")  # another size: read again
        self.assertEqual(agent.Supervisor.server_url(ctl, cache), "unix:///run/other.sock")
        with open(os.path.join(cache, os.listdir(cache)[0]), "w") as handle:
            handle.write("{not json")
        self.assertEqual(agent.Supervisor.server_url(ctl, cache), "unix:///run/other.sock")


class XMLRPCTests(unittest.TestCase):
    """Bodies as supervisord writes them: it answers with xmlrpclib's `dumps(..., methodresponse=True)`."""

    PROCESSES = [
        {"name": "hello-web-A_8100", "group": "hello-web-A", "statename": "RUNNING", "state": 20, "pid": 4242,
         "start": 1700000000, "stop": 0, "now": 1700000100, "exitstatus": 0, "spawnerr": "",
         "description": "pid 4242, uptime 0:01:40", "logfile": "/srv/pinwheel/production/logs/hello-web-A_8100.log",
         "stdout_logfile": "/srv/pinwheel/production/logs/hello-web-A_8100.log", "stderr_logfile": ""},
        {"name": "hello-worker-A_0", "group": "hello-worker-A", "statename": "BACKOFF", "state": 30, "pid": 0,
         "start": 1700000000, "stop": 1700000050, "now": 1700000100, "exitstatus": 1,
         "spawnerr": "Exited too quickly (process log may have details)", "description": "Exited too quickly",
         "logfile": "", "stdout_logfile": "", "stderr_logfile": ""},
    ]

    def test_decodes_all_process_info(self):
        body = xmlrpc.client.dumps((self.PROCESSES,), methodresponse=True).encode("utf-8")
        self.assertEqual(agent.XMLRPC().decode(body), self.PROCESSES)

    def test_decodes_reload_config(self):
        body = xmlrpc.client.dumps(([["hello-web-B"], ["hello-web-A"], []],), methodresponse=True).encode("utf-8")
        self.assertEqual(agent.XMLRPC().decode(body), [["hello-web-B"], ["hello-web-A"], []])

    def test_fault_raises(self):
        body = xmlrpc.client.dumps(xmlrpc.client.Fault(10, "BAD_NAME: hello-web-C")).encode("utf-8")
        with self.assertRaisesRegex(RuntimeError, "BAD_NAME"):
            agent.XMLRPC().decode(body)


class SupervisorFallbackTests(TestCase):
    def test_a_socket_that_does_not_answer_falls_back_to_the_ctl_command(self):
        """No round trip is spent asking whether the socket answers: the first real call finds out."""
        config = os.path.join(self.root, "supervisord.conf")
        with open(config, "w") as handle:
            handle.write("[unix_http_server]\nfile=%s/gone.sock\n" % self.root)
        ctl = fake_supervisorctl(self.root, {"hello-web-A": [8100]})
        supervisor = agent.Supervisor("supervisorctl -c %s" % config)
        self.assertIsNotNone(supervisor.proxy)
        supervisor.ctl_words = ctl.split()
        states, problem = supervisor.states()
        self.assertIsNone(supervisor.proxy)
        self.assertEqual((states, problem), ({"hello-web-A": ["RUNNING"]}, None))

    def test_observing_runs_the_fixed_status_command_never_the_configured_one(self):
        """Read-only (observe, logs, exec): without a socket, `supervisorctl -c FILE status` by its absolute path,
        without the `sudo` the config put before it; anything but `status` is refused."""
        ctl = fake_supervisorctl(self.root, {"hello-web-A": [8100]})
        calls = os.path.join(FAKE_SYSTEM, "supervisorctl.calls")
        if os.path.exists(calls):
            os.remove(calls)
        supervisor = agent.Supervisor(ctl.replace("supervisorctl", "sudo -n supervisorctl"), read_only=True)
        self.assertEqual(supervisor.states(), ({"hello-web-A": ["RUNNING"]}, None))
        with open(calls) as handle:
            self.assertEqual(handle.read(), "%s status\n" % ctl.split(" ", 1)[1])
        with self.assertRaisesRegex(agent.StepFailed, "only observes"):
            supervisor.update()
        self.assertEqual(agent.Agent(make_request(self.root, action="observe")).supervisord.read_only, True)
        self.assertEqual(agent.Agent(make_request(self.root)).supervisord.read_only, False)


class LockTests(TestCase):
    def test_lock_held_elsewhere_answers_locked_in_bounded_time(self):
        base = os.path.join(self.root, "production")
        os.makedirs(base)
        with open(os.path.join(base, ".lock"), "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            started = time.monotonic()
            reply = agent.handle(make_request(self.root, steps=[{"action": "verify", "slot": "A"}],
                                              lockTimeoutSeconds=1))
            elapsed = time.monotonic() - started
        self.assertEqual((reply["ok"], reply["code"]), (False, "locked"))
        self.assertIn("lock", reply["error"])
        self.assertEqual(reply["steps"], [])
        self.assertIsNotNone(reply["observation"])
        self.assertLess(elapsed, 3)


class FenceTests(TestCase):
    """The host's fence: the highest lease epoch seen for an environment; lower epochs change nothing."""

    def fence(self):
        with open(os.path.join(self.root, "production", "fence")) as stream:
            return stream.read().strip()

    def test_a_lower_epoch_is_refused_and_changes_nothing(self):
        self.assertTrue(agent.handle(make_request(self.root, epoch=3))["ok"])
        self.assertEqual(self.fence(), "3")
        refused = agent.handle(make_request(self.root, steps=[{"action": "verify", "slot": "A"}], epoch=2))
        self.assertEqual((refused["ok"], refused["code"]), (False, "fenced"))
        self.assertIn("epoch 2 is below 3", refused["error"])
        self.assertEqual(refused["steps"], [], "no step ran")
        self.assertEqual(self.fence(), "3")
        self.assertTrue(agent.handle(make_request(self.root, epoch=3))["ok"], "the owner itself again")
        self.assertTrue(agent.handle(make_request(self.root, epoch=5))["ok"])
        self.assertEqual(self.fence(), "5")

    def test_observing_is_fenced_but_records_nothing(self):
        self.assertTrue(agent.handle(make_request(self.root, epoch=4))["ok"])
        stale = agent.handle(make_request(self.root, action="observe", epoch=1))
        self.assertEqual((stale["ok"], stale["code"]), (False, "fenced"))
        self.assertTrue(agent.handle(make_request(self.root, action="observe", epoch=9))["ok"])
        self.assertEqual(self.fence(), "4", "an observation raises no fence")

    def test_a_request_without_an_epoch_is_not_fenced(self):
        self.assertTrue(agent.handle(make_request(self.root, epoch=7))["ok"])
        self.assertTrue(agent.handle(make_request(self.root))["ok"], "a controller alone, an operator's apply")

    def test_an_unreadable_fence_refuses(self):
        os.makedirs(os.path.join(self.root, "production"))
        with open(os.path.join(self.root, "production", "fence"), "w") as stream:
            stream.write("garbage")
        refused = agent.handle(make_request(self.root, epoch=1))
        self.assertEqual(refused["code"], "fenced")
        self.assertIn("unreadable", refused["error"])

    def test_malformed_epochs_are_bad_requests(self):
        for epoch in ("3", -1, True, 2 ** 63, 1.5):
            reply = agent.handle(make_request(self.root, epoch=epoch))
            self.assertEqual(reply["code"], "badRequest", epoch)


class HealthCheckTests(TestCase):
    def check_request(self, port):
        ctl = fake_supervisorctl(self.root, {"hello-web-A": [port], "hello-worker-A": [0]})
        return make_request(self.root, steps=[{"action": "check", "slot": "A"}], ctl=ctl, web_ports=[port])

    def test_check_passes_when_the_slot_answers_on_the_third_attempt(self):
        with web_server([503, 503, 200]) as port:
            request = self.check_request(port)
            # A window (40 x 50 ms) that three attempts fit in on a loaded machine too: each is a supervisorctl run.
            request["health"]["retries"] = 40
            reply = agent.handle(request)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["code"], None)
        step = reply["steps"][0]
        self.assertEqual(step["step"], {"action": "check", "slot": "A"})
        self.assertEqual((step["ok"], step["changed"], step["code"], step["error"]), (True, False, None, None))
        self.assertEqual(step["output"], ["slot A healthy after 3 attempts"])

    def test_full_observation_reuses_what_the_check_just_saw(self):
        """Nothing is asked twice: the observation that ends the request takes slot A's health from the check."""
        host = agent.Agent(make_request(self.root))
        os.makedirs(host.deployment.slot_dir("A"))
        host.builder.write_manifest("A", host.deployment.slot_dir("A"), "uv")
        os.symlink(os.path.basename(host.deployment.slot_dir("A")), host.deployment.slot_link("A"))
        for full in (False, True):
            asked = []
            with web_server([200, 503], asked=asked) as port:
                request = self.check_request(port)
                request["fullObservation"] = full
                reply = agent.handle(request)
            self.assertTrue(reply["ok"], reply)
            self.assertTrue(reply["observation"]["slots"]["A"]["healthy"], full)
            self.assertEqual(len(asked), 1, full)

    def test_what_was_seen_expires_when_processes_change_or_time_passes(self):
        host = agent.Agent(make_request(self.root))
        kept = (host.supervisord.generation, time.monotonic(), ["problem"])
        self.assertEqual(host.health.seen(kept), (["problem"],))
        host.supervisord.generation += 1
        self.assertIsNone(host.health.seen(kept))
        stale = (host.supervisord.generation, time.monotonic() - agent.SEEN_FOR_SECONDS - 1, [])
        self.assertIsNone(host.health.seen(stale))
        self.assertIsNone(host.health.seen(None))

    def test_a_process_starting_for_its_startsecs_counts_as_running(self):
        spec = slot_spec("A", web_ports=[8100])
        states = {"hello-web-A": ["RUNNING"], "hello-worker-A": ["STARTING"]}
        self.assertEqual(agent.settled(spec, states, {"hello-worker-A": [1.2]}),
                         {"hello-web-A": ["RUNNING"], "hello-worker-A": ["RUNNING"]})
        self.assertEqual(agent.settled(spec, states, {"hello-worker-A": [0.3]}), states)
        self.assertEqual(agent.settled(spec, states, {}), states)
        self.assertEqual(agent.settled(spec, states, {"hello-worker-A": [None]}), states)
        self.assertEqual(agent.process_problems(spec, agent.settled(spec, states, {"hello-worker-A": [0.3]})),
                         ["hello-worker-A: STARTING"])
        self.assertEqual(agent.settled(spec, {"hello-web-A": ["STARTING"], "hello-worker-A": ["BACKOFF"]},
                                       {"hello-web-A": [0.0]}),
                         {"hello-web-A": ["RUNNING"], "hello-worker-A": ["BACKOFF"]})

    def test_process_age_comes_from_proc(self):
        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
        try:
            time.sleep(0.3)
            age = agent.process_age(child.pid)
            self.assertGreaterEqual(age, 0.2)
            self.assertLess(age, 3)
        finally:
            child.kill()
            child.wait()
        self.assertIsNone(agent.process_age(2 ** 22 + 7))

    def test_processes_that_started_before_the_build_run_an_older_one(self):
        """A run cut short after the slot's link moved and before supervisord loaded the new section leaves the old
        processes RUNNING and healthy: they are STALE, so the planner starts the slot again."""
        host = agent.Agent(make_request(self.root))
        spec = host.deployment.spec("A")
        now = agent.uptime()
        manifest = {"fingerprint": FINGERPRINT_A, "builtAt": agent.built_at()}
        started = {"hello-web-A": [now - 100, now + 1], "hello-worker-A": [now + 1]}
        self.assertEqual(agent.stale_groups(spec, manifest, started), {"hello-web-A"})
        self.assertEqual(agent.stale_groups(spec, {"fingerprint": FINGERPRINT_A}, started), set())
        # Another boot: everything started after it.
        self.assertEqual(agent.stale_groups(spec, {"builtAt": {"boot": "another", "uptime": now}}, started), set())
        states = {"hello-web-A": ["RUNNING", "RUNNING"], "hello-worker-A": ["RUNNING"]}
        processes = agent.settled(spec, states, {}, {"hello-web-A"})
        self.assertEqual(processes["hello-web-A"], ["STALE", "STALE"])
        self.assertEqual(agent.process_problems(spec, processes),
                         ["hello-web-A: runs a build older than the slot's (its new config was never loaded)"])

    def test_the_next_check_comes_when_startsecs_are_up_or_soon_after_a_start(self):
        host = agent.Agent(make_request(self.root, health={"retries": 40, "interval": "250ms"}))
        spec = host.deployment.spec("A")
        host.supervisord.starting = {"hello-worker-A": [0.9]}
        self.assertAlmostEqual(host.health.pause_before_next_check(spec, 0.5), 0.12)
        host.supervisord.starting = {"hello-worker-A": [0.1]}
        self.assertEqual(host.health.pause_before_next_check(spec, 0.5), 0.25)
        host.supervisord.starting = {}
        self.assertEqual(host.health.pause_before_next_check(spec, 0.5), agent.FIRST_CHECKS_PAUSE)
        self.assertEqual(host.health.pause_before_next_check(spec, 3.0), 0.25)

    def test_check_fails_with_code_health_when_the_slot_never_answers_ok(self):
        with web_server([503]) as port:
            started = time.monotonic()
            reply = agent.handle(self.check_request(port))
            elapsed = time.monotonic() - started
        self.assertEqual((reply["ok"], reply["code"]), (False, "stepFailed"))
        step = reply["steps"][-1]
        self.assertEqual((step["ok"], step["changed"], step["code"]), (False, None, "health"))
        # Within the window of retries x interval (5 x 50 ms), asked again and again (how often depends on the
        # machine's load: each attempt is a request).
        self.assertRegex(step["error"], r"after ([2-9]|[1-9][0-9]) attempts in 0\.[2-9]s")
        self.assertIn("web on port %d: /healthz answered status 503, expected 200" % port, step["error"])
        self.assertIn(step["error"], reply["error"])
        self.assertLess(elapsed, 3)

    def test_processes_not_running_are_the_problem(self):
        with web_server([200]) as port:
            request = self.check_request(port)
            request["settings"]["supervisor"]["ctl"] = fake_supervisorctl(self.root, {"hello-web-A": [port]})
            request["health"]["retries"] = 1
            reply = agent.handle(request)
        self.assertEqual(reply["steps"][-1]["code"], "health")
        self.assertIn("hello-worker-A: not known to supervisord", reply["steps"][-1]["error"])


class StepTests(TestCase):
    def test_verify_and_start_refuse_a_slot_not_prepared(self):
        for action in ("verify", "start"):
            reply = agent.handle(make_request(self.root, steps=[{"action": action, "slot": "B"}]))
            self.assertEqual(reply["code"], "stepFailed")
            self.assertEqual(reply["steps"][-1]["code"], "notPrepared")
            self.assertEqual(reply["observation"]["slots"]["B"]["problems"], ["not prepared"])

    def test_steps_stop_at_the_first_failure(self):
        reply = agent.handle(make_request(self.root, steps=[{"action": "verify", "slot": "A"},
                                                            {"action": "route", "slot": "A"}]))
        self.assertEqual(len(reply["steps"]), 1)
        self.assertFalse(os.path.exists(os.path.join(self.root, "nginx", "hello.conf")))

    def test_verify_accepts_only_a_slot_that_has_served(self):
        """A warm switch (verify, then route) is for rollbacks: a slot only ever prepared is refused."""
        with web_server([200]) as port:
            request = make_request(self.root, steps=[{"action": "verify", "slot": "A"}])
            request["settings"]["supervisor"]["ctl"] = fake_supervisorctl(self.root, {"hello-web-A": [port], "hello-worker-A": [0]})
            request["slots"]["A"]["spec"]["programs"][0]["ports"] = [port]
            request["slots"]["A"]["spec"]["programs"][0]["processes"] = 1
            host = agent.Agent(request)
            os.makedirs(host.deployment.slot_dir("A"))
            host.builder.write_manifest("A", host.deployment.slot_dir("A"), "uv")
            os.makedirs(host.deployment.slots_dir, exist_ok=True)
            os.symlink(os.path.basename(host.deployment.slot_dir("A")), host.deployment.slot_link("A"))
            reply = agent.handle(request)
            self.assertEqual(reply["steps"][-1]["code"], "notServed", reply)
            request["steps"] = [{"action": "route", "slot": "A"}]
            self.assertTrue(agent.handle(request)["ok"])
            self.assertIn("servedAt", agent.read_manifest(host.deployment.slot_dir("A")))
            request["steps"] = [{"action": "verify", "slot": "A"}]
            reply = agent.handle(request)
            self.assertTrue(reply["ok"], reply)

    def test_route_writes_the_upstream_file(self):
        reply = agent.handle(make_request(self.root, steps=[{"action": "route", "slot": "B"}]))
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["steps"][0]["output"], ["nginx now routes to slot B"])
        self.assertTrue(reply["steps"][0]["changed"])
        self.assertEqual((reply["observation"]["routed"], reply["observation"]["routedFingerprint"]),
                         ("B", FINGERPRINT_B))

    def test_route_to_the_slot_already_routed_changes_nothing(self):
        request = make_request(self.root, steps=[{"action": "route", "slot": "B"}])
        agent.handle(request)
        request["settings"]["nginx"]["reload"] = "nginx -s reload -c /fail.conf"
        reply = agent.handle(request)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["steps"][0]["output"], ["nginx already routes to slot B"])
        self.assertFalse(reply["steps"][0]["changed"])

    def test_route_puts_the_previous_file_back_when_nginx_rejects_the_new_one(self):
        request = make_request(self.root, steps=[{"action": "route", "slot": "A"}])
        agent.handle(request)
        request["steps"] = [{"action": "route", "slot": "B"}]
        request["settings"]["nginx"]["test"] = "nginx -t -c /fail.conf"
        reply = agent.handle(request)
        self.assertEqual(reply["steps"][-1]["code"], "nginxTest")
        self.assertIn("emerg: bad upstream", reply["steps"][-1]["detail"])
        self.assertEqual(reply["steps"][-1]["detail"], "emerg: bad upstream", "nginx's output is the detail")
        self.assertNotIn("\n", reply["steps"][-1]["error"], "the diagnosis is one line")
        self.assertEqual(reply["observation"]["routed"], "A")

    def test_route_verifies_through_nginx_check(self):
        self.addCleanup(setattr, agent, "ROUTE_VERIFY_ATTEMPTS", agent.ROUTE_VERIFY_ATTEMPTS)
        agent.ROUTE_VERIFY_ATTEMPTS = 5
        with web_server([200], {"X-Pinwheel-Slot": "B"}) as port:
            request = make_request(self.root, steps=[{"action": "route", "slot": "B"}])
            request["settings"]["nginx"]["check"] = "http://127.0.0.1:%d/healthz" % port
            reply = agent.handle(request)
            self.assertTrue(reply["ok"], reply)
            self.assertRegex(reply["steps"][0]["output"][0], r"^verified through nginx in \d+\.\d\ds$")
            self.assertEqual(reply["steps"][0]["output"][1], "nginx now routes to slot B")
            request["steps"] = [{"action": "route", "slot": "A"}]
            reply = agent.handle(request)
        self.assertEqual(reply["steps"][-1]["code"], "nginxVerify")
        self.assertIn("slot B (X-Pinwheel-Slot)", reply["error"])
        self.assertEqual(reply["observation"]["routed"], "B")


    def test_route_waits_for_the_probe_to_answer_with_the_new_fingerprint(self):
        """Pinwheel's probe answers with the fingerprint written in the config its worker loaded: old workers still
        answer with the old one for a moment after a reload, and three in a row with the new one are enough."""
        self.addCleanup(setattr, agent, "ROUTE_VERIFY_ATTEMPTS", agent.ROUTE_VERIFY_ATTEMPTS)
        agent.ROUTE_VERIFY_ATTEMPTS = 8
        answers = iter([FINGERPRINT_A, FINGERPRINT_A] + [FINGERPRINT_B] * 20)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("X-Pinwheel-Fingerprint", next(answers))
                self.end_headers()

            def log_message(self, *arguments):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        request = make_request(self.root, steps=[{"action": "route", "slot": "B"}])
        request["settings"]["nginx"]["probe"] = "127.0.0.1:%d" % server.server_address[1]
        reply = agent.handle(request)
        self.assertTrue(reply["ok"], reply)
        with open(request["settings"]["nginx"]["upstream"]) as handle:
            self.assertIn("add_header X-Pinwheel-Fingerprint %s always;" % FINGERPRINT_B, handle.read())
        # A probe that never answers with the new fingerprint: switched back.
        request["steps"] = [{"action": "route", "slot": "A"}]
        agent.ROUTE_VERIFY_ATTEMPTS = 4
        reply = agent.handle(request)
        self.assertEqual(reply["steps"][-1]["code"], "nginxVerify")
        self.assertIn("fingerprint bbbbbbbbbbbb (X-Pinwheel-Fingerprint)", reply["error"])
        self.assertEqual(reply["observation"]["routed"], "B")

    def test_upstream_file_with_the_probe(self):
        request = make_request("/srv/pinwheel")
        request["settings"]["nginx"]["probe"] = "127.0.0.1:19123"
        self.assertEqual(agent.Agent(request).router.upstream_text("B"), golden("nginx-upstream-B-probe.conf"))


class HostIntegrityTests(TestCase):
    """What a host's own folders and programs may decide: a deploy root someone else can write is refused before
    anything is read from it, installers see none of the host's pip or uv settings, and programs start by absolute
    paths, never from a PATH a slot's bin/ comes first in."""

    def test_a_deploy_root_writable_by_others_is_refused_and_nothing_is_done(self):
        os.chmod(self.root, 0o777)
        self.addCleanup(os.chmod, self.root, 0o700)
        reply = agent.handle(make_request(self.root, steps=[{"action": "route", "slot": "A"}]))
        self.assertEqual((reply["ok"], reply["code"]), (False, "unsafeRoot"))
        self.assertIn("%s is writable by its group or others (mode 777)" % self.root, reply["error"])
        self.assertIn("chmod go-w", reply["error"])
        self.assertFalse(os.path.exists(os.path.join(self.root, "nginx")), "the route step wrote nothing")

    def test_an_environment_folder_writable_by_its_group_is_refused_for_observing_too(self):
        os.makedirs(os.path.join(self.root, "production", "slots"))
        os.chmod(os.path.join(self.root, "production", "slots"), 0o775)
        reply = agent.handle(make_request(self.root, action="observe"))
        self.assertEqual(reply["code"], "unsafeRoot")
        self.assertIn("production/slots is writable by its group or others (mode 775)", reply["error"])

    def test_a_root_owned_by_another_user_is_refused(self):
        """As the app's user owning the root (so it could replace the agent the SSH user runs): decided by owner."""
        if os.geteuid() != 0:
            self.skipTest("changing a folder's owner needs root")
        import pwd
        other = pwd.getpwnam("nobody").pw_uid
        cache = os.path.join(self.root, ".pinwheel")
        os.makedirs(cache)
        os.chown(cache, other, -1)
        problem = agent.root_problem(self.root, "production")
        self.assertIn("%s is owned by user id %d, not by the SSH user (0) or root" % (cache, other), problem)

    def test_a_link_in_place_of_a_folder_is_refused(self):
        os.symlink("/tmp", os.path.join(self.root, "production"))
        self.assertIn("is not a folder (a link or a file)", agent.root_problem(self.root, "production"))
        self.assertIsNone(agent.root_problem(os.path.join(self.root, "missing"), "production"), "made later, by the agent")

    def test_installers_see_none_of_the_hosts_pip_or_uv_settings(self):
        variables = {"PIP_EXTRA_INDEX_URL": "http://evil.example/simple/", "PIP_INDEX_URL": "http://evil.example/",
                     "UV_EXTRA_INDEX_URL": "http://evil.example/", "UV_INDEX": "evil=http://evil.example/",
                     "PIP_CONFIG_FILE": "/etc/evil.conf", "PYTHONPATH": "/tmp/evil", "VIRTUAL_ENV": "/tmp/venv"}
        saved = {key: os.environ.get(key) for key in variables}
        os.environ.update(variables)
        try:
            environment = agent.install_environment()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        for key in ("PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "PYTHONPATH", "VIRTUAL_ENV"):
            self.assertNotIn(key, environment)
        self.assertEqual((environment["PIP_CONFIG_FILE"], environment["UV_NO_CONFIG"], environment["PIP_NO_INPUT"]),
                         (os.devnull, "1", "1"))
        self.assertEqual(environment["PATH"], os.environ["PATH"])

    def test_an_install_runs_with_the_isolated_environment(self):
        """The installer (a stand-in uv that records what it saw) gets the isolated environment, whatever the host's
        session sets, and the config's index only."""
        tools = os.path.join(self.root, "tools")
        os.makedirs(tools)
        seen = os.path.join(self.root, "seen")
        with open(os.path.join(tools, "uv"), "w") as handle:
            handle.write('#!/bin/sh\nenv >> "%s"\necho "ARGS $*" >> "%s"\nif [ "$1" = venv ]; then for last; do :; done\n'
                         'mkdir -p "$last/bin"; ln -s %s "$last/bin/python"; exit 0; fi\nexit 1\n'
                         % (seen, seen, sys.executable))
        os.chmod(os.path.join(tools, "uv"), 0o755)
        saved = os.environ.get("PATH"), os.environ.get("PIP_EXTRA_INDEX_URL")
        os.environ["PATH"] = tools + os.pathsep + saved[0]
        os.environ["PIP_EXTRA_INDEX_URL"] = "http://evil.example/simple/"
        try:
            reply = agent.handle(make_request(self.root, steps=[{"action": "prepare", "slot": "A"}]))
        finally:
            os.environ["PATH"] = saved[0]
            os.environ.pop("PIP_EXTRA_INDEX_URL")
        self.assertEqual(reply["steps"][0]["code"], "install")
        with open(seen) as handle:
            text = handle.read()
        self.assertNotIn("evil.example", text)
        self.assertIn("UV_NO_CONFIG=1", text)
        self.assertIn("--index-url http://127.0.0.1:8080/simple/", text)

    def test_uv_is_never_taken_from_a_relative_path_folder(self):
        saved = os.environ["PATH"], os.getcwd()
        with open(os.path.join(self.root, "uv"), "w") as handle:
            handle.write("#!/bin/sh\n")
        os.chmod(os.path.join(self.root, "uv"), 0o755)
        os.chdir(self.root)
        os.environ["PATH"] = ".:" + saved[0]
        try:
            self.assertNotEqual(agent.find_program("uv"), "./uv")
        finally:
            os.environ["PATH"] = saved[0]
            os.chdir(saved[1])

    def test_runuser_comes_from_the_system_folders_not_the_slots_bin(self):
        """A package can put a `runuser` in the slot's bin/, which comes first on the PATH the program gets: the
        agent names the system's by its absolute path."""
        request = make_request(self.root)
        request["slots"]["A"]["spec"]["programs"][0]["settings"] = {"user": "pinwheel-nobody-such"}
        target = os.path.join(self.root, "build")
        os.makedirs(os.path.join(target, "venv", "bin"))
        with open(os.path.join(target, "venv", "bin", "runuser"), "w") as handle:
            handle.write("#!/bin/sh\ntouch %s/owned\n" % self.root)
        os.chmod(os.path.join(target, "venv", "bin", "runuser"), 0o755)
        host = agent.Agent(request)
        if os.geteuid() != 0:
            self.skipTest("runuser is only used by root")
        argv, environment, _ = host.hooks.as_program("A", "web", target, ["hello-service"], {}, "exec")
        self.assertTrue(argv[0].startswith("/") and argv[0] != os.path.join(target, "venv", "bin", "runuser"), argv)
        self.assertEqual(os.path.dirname(argv[0]) in agent.SYSTEM_PATH, True, argv)
        self.assertTrue(environment["PATH"].startswith(os.path.join(target, "venv", "bin")))


class ArtifactStoreTests(TestCase):
    """The files the controller ships (`source: {ship: ...}`): asked about, received in pieces, checked by hash."""

    DATA = bytes(range(256)) * 40

    def artifact(self, data=DATA, name="hello_service-1.0.0-py3-none-any.whl"):
        import hashlib
        return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def ask(self, artifacts):
        return agent.handle(make_request(self.root, action="artifacts", artifacts={"B": artifacts}))

    def send(self, artifact, data, offset):
        piece = dict(artifact, offset=offset, data=base64.b64encode(data).decode())
        return agent.handle(make_request(self.root, action="receive", receive=[piece]))

    def test_a_file_arrives_in_pieces_and_a_partial_file_continues_from_its_size(self):
        artifact = self.artifact()
        reply = self.ask([artifact, artifact])
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["missing"], [{"sha256": artifact["sha256"], "have": 0}])
        half = len(self.DATA) // 2
        self.assertTrue(self.send(artifact, self.DATA[:half], 0)["ok"])
        self.assertEqual(self.ask([artifact])["missing"], [{"sha256": artifact["sha256"], "have": half}])
        self.assertTrue(self.send(artifact, self.DATA[half:], half)["ok"])
        self.assertEqual(self.ask([artifact])["missing"], [])
        store = os.path.join(self.root, ".pinwheel", "artifacts")
        with open(os.path.join(store, artifact["sha256"]), "rb") as handle:
            self.assertEqual(handle.read(), self.DATA)
        self.assertEqual(os.listdir(store), [artifact["sha256"]])
        self.assertEqual(os.stat(store).st_mode & 0o777, 0o700)

    def test_a_file_that_does_not_hash_to_the_lock_is_removed_and_named(self):
        artifact = self.artifact()
        reply = self.send(artifact, b"x" * len(self.DATA), 0)
        self.assertEqual((reply["ok"], reply["code"]), (False, "install"))
        self.assertIn("hello_service-1.0.0-py3-none-any.whl: the file received hashes to", reply["error"])
        self.assertEqual(os.listdir(os.path.join(self.root, ".pinwheel", "artifacts")), [])

    def test_a_piece_that_does_not_continue_the_partial_file_is_refused(self):
        artifact = self.artifact()
        self.assertTrue(self.send(artifact, self.DATA[:100], 0)["ok"])
        reply = self.send(artifact, self.DATA[50:], 50)
        self.assertFalse(reply["ok"])
        self.assertIn("partial file changed", reply["error"])
        self.assertEqual(self.ask([artifact])["missing"], [{"sha256": artifact["sha256"], "have": 0}])

    def test_a_link_in_place_of_the_partial_file_is_never_followed(self):
        artifact = self.artifact()
        self.ask([artifact])
        target = os.path.join(self.root, "elsewhere")
        with open(target, "wb") as handle:
            handle.write(self.DATA[:10])
        os.symlink(target, os.path.join(self.root, ".pinwheel", "artifacts", artifact["sha256"] + ".partial"))
        reply = self.send(artifact, self.DATA[10:], 10)
        self.assertFalse(reply["ok"])
        with open(target, "rb") as handle:
            self.assertEqual(handle.read(), self.DATA[:10])

    def test_a_stored_file_is_checked_again_before_a_build_uses_it(self):
        artifact = self.artifact()
        self.assertTrue(self.send(artifact, self.DATA, 0)["ok"])
        store = agent.ArtifactStore(self.root)
        self.assertEqual(store.checked("B", artifact), os.path.join(store.folder, artifact["sha256"]))
        with open(store.path(artifact["sha256"]), "r+b") as handle:
            handle.write(b"!")
        with self.assertRaises(agent.StepFailed) as caught:
            store.checked("B", artifact)
        self.assertIn("the host's copy of hello_service-1.0.0-py3-none-any.whl hashes to", str(caught.exception))
        self.assertFalse(os.path.exists(store.path(artifact["sha256"])))
        with self.assertRaises(agent.StepFailed) as caught:
            store.checked("B", artifact)
        self.assertIn("is not on the host", str(caught.exception))

    def test_names_and_hashes_that_could_reach_elsewhere_are_bad_requests(self):
        good = self.artifact()
        for bad in (dict(good, name="../../etc/passwd.whl"), dict(good, name="-e.whl"), dict(good, name="x.py"),
                    dict(good, sha256="../" + "a" * 61), dict(good, sha256="A" * 64), dict(good, size=-1)):
            reply = self.ask([bad])
            self.assertEqual((reply["ok"], reply["code"]), (False, "badRequest"), bad)
        reply = agent.handle(make_request(self.root, action="receive",
                                          receive=[dict(good, offset=good["size"] + 1, data="")]))
        self.assertEqual(reply["code"], "badRequest")


class RequestTests(TestCase):
    def test_observe(self):
        reply = agent.handle(make_request(self.root, action="observe"))
        self.assertEqual((reply["protocol"], reply["ok"], reply["code"], reply["error"]), (2, True, None, None))
        self.assertEqual(set(reply["observation"]["slots"]), {"A", "B"})
        self.assertEqual(reply["observation"]["slots"]["A"],
                         {"manifest": None, "processes": {"hello-web-A": [], "hello-worker-A": []},
                          "healthy": False, "problems": ["not prepared"]})
        self.assertEqual((reply["observation"]["routed"], reply["observation"]["routedFingerprint"]), (None, None))

    def test_protocol_mismatch(self):
        for protocol, said in ((1, "protocol 1"), (3, "protocol 3"), (None, "protocol None")):
            reply = agent.handle(make_request(self.root, protocol=protocol))
            self.assertEqual((reply["protocol"], reply["ok"], reply["code"]), (2, False, "protocol"))
            self.assertIn("speaks protocol 2, the request is " + said, reply["error"])
        request = make_request(self.root)
        del request["protocol"]
        self.assertIn("the request is protocol 1", agent.handle(request)["error"])

    def test_bad_requests(self):
        def without(*path):
            request = make_request(self.root)
            holder = request
            for key in path[:-1]:
                holder = holder[key]
            del holder[path[-1]]
            return request

        cases = [
            (without("settings"), "request has no 'settings'"),
            (without("settings", "nginx", "reload"), "settings.nginx has no 'reload'"),
            (without("slots", "A", "spec", "python"), "slots.A.spec has no 'python'"),
            (make_request(self.root, steps=[{"action": "deploy", "slot": "A"}]), "'deploy' is not one of"),
            (make_request(self.root, steps=[{"action": "prepare", "slot": "C"}]), "'C' is not one of the request's"),
            (make_request(self.root, action="apply"), "is not observe, execute, logs, exec, artifacts or receive"),
            (make_request(self.root, health={"retries": 3, "interval": "1 second"}), "health.interval"),
            (make_request(self.root, health={"retries": True, "interval": "1s"}), "health.retries has the wrong type"),
            (make_request(self.root, slots={"A": {"fingerprint": "../../etc", "spec": slot_spec("A")}}),
             "is not lowercase hex"),
        ]
        for request, said in cases:
            reply = agent.handle(request)
            self.assertEqual((reply["ok"], reply["code"]), (False, "badRequest"), said)
            self.assertIn(said, reply["error"])
        self.assertEqual(agent.handle([1])["code"], "badRequest")
        self.assertFalse(os.path.exists(os.path.join(self.root, "production")))

    def run_main(self, encoded):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            agent.main(encoded)
        text = output.getvalue()
        self.assertTrue(text.endswith("\n"))
        self.assertEqual(text.count("\n"), 1, text)
        self.assertTrue(text.startswith("PINWHEEL-RESULT "), text)
        return json.loads(text[len("PINWHEEL-RESULT "):])

    def test_main_prints_one_marker_line(self):
        encoded = base64.b64encode(json.dumps(make_request(self.root, action="observe")).encode()).decode()
        reply = self.run_main(encoded)
        self.assertEqual((reply["protocol"], reply["ok"]), (2, True))
        self.assertEqual(self.run_main("not base64 JSON!")["code"], "badRequest")

    def test_step_codes_are_documented(self):
        for code in agent.STEP_CODES:
            self.assertIn("    %s " % code, agent.__doc__)


class CodeContractTests(unittest.TestCase):
    """Every failure code the agent can send comes from its tables (STEP_CODES, REPLY_CODES), which the Swift side
    mirrors as `FailureCode` (its contract test reads the tables): read from the agent's source, so a new
    `raise StepFailed("...")` with a code missing from the table fails here before it reaches a host."""

    # Where a call passes a failure code: the callee's name, the argument's position, and its keyword.
    CODE_ARGUMENTS = {"StepFailed": (0, "code"), "restore": (0, "code"), "as_program": (5, "code"),
                      "reply": (1, "code"), "step_result": (5, "code")}
    # What a call may pass on instead of a literal: a code it was itself given, or the one a failure carries.
    FORWARDED = {"code", "error.code"}

    def code_arguments(self):
        import ast
        tree = ast.parse(payload.source())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in self.CODE_ARGUMENTS:
                continue
            position, keyword = self.CODE_ARGUMENTS[name]
            argument = next((k.value for k in node.keywords if k.arg == keyword), None)
            if argument is None and len(node.args) > position:
                argument = node.args[position]
            if argument is not None:
                yield name, node.lineno, argument

    def test_every_code_the_agent_sends_is_in_its_tables(self):
        import ast
        found = 0
        for name, line, argument in self.code_arguments():
            if isinstance(argument, ast.Constant):
                if argument.value is None:
                    continue
                allowed = agent.REPLY_CODES if name == "reply" else agent.STEP_CODES
                self.assertIn(argument.value, allowed, "%s at line %d sends a code missing from the table" % (name, line))
                found += 1
            else:
                # `name` or `name.attribute`, spelled out by hand (ast.unparse is Python 3.9+).
                if isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name):
                    spelled = "%s.%s" % (argument.value.id, argument.attr)
                else:
                    spelled = getattr(argument, "id", ast.dump(argument))
                self.assertIn(spelled, self.FORWARDED,
                              "%s at line %d passes a code the test cannot check" % (name, line))
        self.assertGreater(found, 20, "the walk found the agent's codes")

    def test_the_tables_have_no_duplicates_and_are_documented(self):
        for table in (agent.STEP_CODES, agent.REPLY_CODES):
            self.assertEqual(len(table), len(set(table)))
        for code in agent.REPLY_CODES:
            self.assertIn("    %s " % code, agent.__doc__)

    def test_a_failure_splits_its_diagnosis_from_the_hosts_output(self):
        failure = agent.StepFailed("install", "pip install failed (exit 1):\nERROR: token=abc123 refused\n")
        self.assertEqual((failure.diagnosis, failure.detail), ("pip install failed (exit 1)", "ERROR: token=abc123 refused"))
        self.assertIsNone(agent.StepFailed("notPrepared", "slot A is not prepared").detail)


if __name__ == "__main__":
    unittest.main()
