"""Unit tests of the host agent's modules, each imported on its own (test_agent.py tests the joined payload hosts
run), and of how they join: every module imports alone, imports only modules before it in PAYLOAD_MODULES and only
as the payload can leave the import out, and no two define one name (in the payload's one namespace the later
would silently replace the earlier).
"""
import ast
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import payload

sys.dont_write_bytecode = True  # no __pycache__ in the Swift target's sources
wire = payload.module("agent_wire")
system = payload.module("agent_system")
commands = payload.module("agent_commands")
requests = payload.module("agent_request")
deployment = payload.module("agent_deployment")
artifacts = payload.module("agent_artifacts")
programs = payload.module("agent_programs")
hooks = payload.module("agent_hooks")
logs = payload.module("agent_logs")
routing = payload.module("agent_routing")
health = payload.module("agent_health")
bytecode = payload.module("agent_bytecode")
building = payload.module("agent_building")
lock = payload.module("agent_lock")

FINGERPRINT = "c" * 64


def request(root, **overrides):
    """A protocol 2 request of one slot, A, with a web program on port 8100 and a worker."""
    spec = {"python": "/usr/bin/python3", "source": {"index": "http://127.0.0.1:8080/simple/"},
            "requirements": "hello-service==1.0.0\n", "hashed": False,
            "programs": [{"name": "web", "supervisorName": "hello-web-A", "command": "hello-service --port {port}",
                          "processes": 1, "ports": [8100],
                          "health": {"path": "/healthz", "status": 200, "timeout": "1s"}},
                         {"name": "worker", "supervisorName": "hello-worker-A", "command": "hello-worker",
                          "processes": 1, "ports": []}]}
    value = {"protocol": 2, "action": "execute", "steps": [], "environment": "production", "app": "hello",
             "settings": {"root": root,
                          "supervisor": {"include": os.path.join(root, "supervisor"), "ctl": "supervisorctl"},
                          "nginx": {"upstream": os.path.join(root, "nginx", "hello.conf"), "test": "nginx -t",
                                    "reload": "nginx -s reload"}},
             "slots": {"A": {"fingerprint": FINGERPRINT, "spec": spec}},
             "health": {"retries": 3, "interval": "50ms"}, "commit": "3f2a"}
    value.update(overrides)
    return value


class TestCase(unittest.TestCase):
    def setUp(self):
        temporary = tempfile.TemporaryDirectory()
        self.addCleanup(temporary.cleanup)
        self.root = temporary.name
        self.deployment = deployment.Deployment(request(self.root))

    def prepared(self, slot="A"):
        """The slot's build folder with a manifest, and the slot's link to it."""
        target = self.deployment.slot_dir(slot)
        os.makedirs(target)
        system.write_atomically(os.path.join(target, "manifest.json"),
                                deployment.manifest_text({"fingerprint": self.deployment.fingerprint(slot)}))
        os.symlink(os.path.basename(target), self.deployment.slot_link(slot))
        return target


class PayloadTests(unittest.TestCase):
    """How the modules join into the one program text hosts run."""

    @staticmethod
    def tree(name):
        return ast.parse(payload.read(name))

    def test_every_module_beside_the_agent_is_in_the_payload_once(self):
        names = payload.module_names()
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(names[-1], "pinwheel_agent", "the entry module, which imports the others, comes last")
        on_disk = sorted(name[:-3] for name in os.listdir(payload.AGENT_FOLDER)
                         if name.endswith(".py") and (name.startswith("agent_") or name == "pinwheel_agent.py"))
        self.assertEqual(sorted(names), on_disk)

    def test_each_module_imports_only_modules_before_it_in_lines_the_payload_leaves_out(self):
        names = payload.module_names()
        for index, name in enumerate(names):
            tree = self.tree(name)
            top_level = set(id(node) for node in tree.body)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        self.assertNotIn(alias.name, names, "%s: `import %s` stays in the payload" % (name, alias.name))
                if not isinstance(node, ast.ImportFrom) or node.module not in names:
                    continue
                place = "%s.py:%d" % (name, node.lineno)
                self.assertIn(id(node), top_level, "%s: an import of another agent module must be at the top level"
                              % place)
                self.assertEqual(node.lineno, node.end_lineno, "%s: one line, so the payload can leave it out" % place)
                self.assertEqual(node.col_offset, 0, place)
                self.assertTrue(all(alias.asname is None for alias in node.names), "%s: no `as` names" % place)
                self.assertLess(names.index(node.module), index, "%s: %s comes later in PAYLOAD_MODULES" % (
                    place, node.module))
                self.assertTrue(payload.is_sibling_import(payload.read(name).split("\n")[node.lineno - 1]), place)

    def test_no_two_modules_define_one_name(self):
        owner = {}
        for name in payload.module_names():
            for node in self.tree(name).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    defined = [node.name]
                elif isinstance(node, ast.Assign):
                    defined = [target.id for target in node.targets if isinstance(target, ast.Name)]
                else:
                    continue
                for thing in defined:
                    self.assertFalse(thing in owner, "%s defines %s, which %s defines too" % (name, thing,
                                                                                             owner.get(thing)))
                    owner[thing] = name
        self.assertGreater(len(owner), 80)

    def test_the_payload_has_every_name_each_module_defines(self):
        joined = payload.load()
        for name in payload.module_names():
            module = payload.module(name)
            for thing, value in vars(module).items():
                if getattr(value, "__module__", None) == name:
                    self.assertTrue(hasattr(joined, thing), "%s.%s is missing from the payload" % (name, thing))

    def test_each_module_imports_alone_in_a_new_interpreter_without_a_third_party_module(self):
        for name in payload.module_names():
            script = ("import sys\nsys.dont_write_bytecode = True\nsys.path.insert(0, %r)\nbefore = set(sys.modules)\n"
                      "import %s\nprint(' '.join(sorted(set(sys.modules) - before)))\n" % (payload.AGENT_FOLDER, name))
            completed = subprocess.run([sys.executable, "-I", "-S", "-c", script], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, universal_newlines=True)
            self.assertEqual(completed.returncode, 0, completed.stderr)
            standard = getattr(sys, "stdlib_module_names", None)  # Python 3.10 and later
            for imported in completed.stdout.split():
                if standard is not None and imported not in payload.module_names():
                    self.assertIn(imported.split(".")[0], standard, "%s imports %s" % (name, imported))

    def test_the_payload_runs_a_request_in_a_new_interpreter_with_no_agent_module_on_disk(self):
        with tempfile.TemporaryDirectory() as folder:
            encoded = base64.b64encode(json.dumps({"protocol": 1}).encode()).decode()
            script = ("import sys\nagent = {'__name__': 'pinwheel_agent'}\nexec(compile(sys.stdin.read(), "
                      "'pinwheel_agent.py', 'exec'), agent)\nagent['main'](%r)\n" % encoded)
            completed = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", script], input=payload.source(),
                                       cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       universal_newlines=True)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        reply = json.loads(completed.stdout.split(wire.MARKER, 1)[1])
        self.assertEqual((reply["ok"], reply["code"]), (False, "protocol"))


class DispatchTests(TestCase):
    def test_every_step_has_one_collaborator_with_a_method_of_its_name(self):
        entry = payload.module("pinwheel_agent")
        self.assertEqual(set(entry.STEP_OWNERS), set(wire.STEP_ACTIONS))
        host = entry.Agent(request(self.root))
        for action in wire.STEP_ACTIONS:
            method = host.step(action)
            self.assertEqual(method.__name__, action)
            self.assertIs(method.__self__, getattr(host, entry.STEP_OWNERS[action]))

    def test_the_collaborators_share_one_deployment_and_one_supervisord(self):
        host = payload.module("pinwheel_agent").Agent(request(self.root))
        for part in (host.programs, host.hooks, host.logs, host.router, host.health, host.builder):
            self.assertIs(part.deployment, host.deployment)
        for part in (host.programs, host.health, host.builder):
            self.assertIs(part.supervisord, host.supervisord)


class WireTests(unittest.TestCase):
    def test_every_code_is_documented_in_the_wire_module(self):
        for code in wire.STEP_CODES + wire.REPLY_CODES:
            self.assertIn("    %s " % code, wire.__doc__)

    def test_durations_and_json(self):
        self.assertEqual(wire.parse_duration("1.5s"), 1.5)
        with self.assertRaises(ValueError):
            wire.parse_duration("5 minutes")
        self.assertEqual(wire.json_loads(wire.json_dumps({"b": [1, "é"]})), {"b": [1, "é"]})


class SystemTests(unittest.TestCase):
    def test_run_command_needs_an_absolute_path_and_reports_the_exit_status(self):
        with self.assertRaises(FileNotFoundError):
            system.run_command(["sh", "-c", "true"], 5)
        self.assertEqual(system.run_command(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], 5), (3, "out\nerr\n"))

    def test_http_check_answers_an_error_instead_of_raising(self):
        status, headers, error = system.http_check("http://127.0.0.1:1/", 1)
        self.assertEqual((status, headers), (None, {}))
        self.assertTrue(error)

    def test_write_atomically_leaves_no_temporary_file(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "deep", "file")
            system.write_atomically(path, "one")
            system.write_atomically(path, b"two")
            self.assertEqual(os.listdir(os.path.dirname(path)), ["file"])
            with open(path) as handle:
                self.assertEqual(handle.read(), "two")


class CommandsTests(unittest.TestCase):
    def test_a_configured_command_is_plain_words_of_an_allowed_program(self):
        self.assertEqual(commands.command_words("sudo -n nginx -s reload", "nginx.reload", "/srv/pinwheel"),
                         ["sudo", "-n", "nginx", "-s", "reload"])
        for bad in ("sh -c reload", "nginx -t; rm", "nginx -c /srv/pinwheel/evil.conf"):
            with self.assertRaises(wire.BadRequest):
                commands.command_words(bad, "nginx.test", "/srv/pinwheel")

    def test_the_installers_environment_names_no_index_of_the_host(self):
        os.environ["PIP_EXTRA_INDEX_URL"] = "http://evil.example/simple"
        try:
            environment = commands.install_environment()
        finally:
            del os.environ["PIP_EXTRA_INDEX_URL"]
        self.assertNotIn("PIP_EXTRA_INDEX_URL", environment)
        self.assertEqual(environment["PIP_CONFIG_FILE"], os.devnull)


class RequestTests(unittest.TestCase):
    def test_a_request_is_checked_whole_and_a_bad_one_names_its_field(self):
        good = request("/srv/pinwheel", steps=[{"action": "prepare", "slot": "A"}])
        requests.validate(good)
        bad = request("/srv/pinwheel", steps=[{"action": "prepare", "slot": "C"}])
        with self.assertRaises(wire.BadRequest) as raised:
            requests.validate(bad)
        self.assertIn("steps[0].slot", str(raised.exception))


class DeploymentTests(TestCase):
    def test_paths_of_the_environment_and_its_slots(self):
        slots = os.path.join(self.root, "production", "slots")
        self.assertEqual(self.deployment.slot_link("A"), os.path.join(slots, "A"))
        self.assertEqual(self.deployment.slot_dir("A"), os.path.join(slots, "A-" + FINGERPRINT))
        self.assertEqual(self.deployment.conf_path("A"),
                         os.path.join(self.root, "supervisor", "hello-production-A.conf"))

    def test_a_part_says_into_the_current_step_and_a_new_step_starts_empty(self):
        part = deployment.Part(self.deployment)
        part.say("one")
        self.deployment.measured["x"] = 1
        self.assertEqual(self.deployment.output, ["one"])
        self.deployment.start_step()
        self.assertEqual((self.deployment.output, self.deployment.measured), ([], {}))

    def test_a_manifest_cut_short_reads_as_none(self):
        target = self.prepared()
        self.assertEqual(deployment.read_manifest(target), {"fingerprint": FINGERPRINT})
        with open(os.path.join(target, "manifest.json"), "w") as handle:
            handle.write('{"fingerprint": ')
        self.assertIsNone(deployment.read_manifest(target))


class HostLockTests(TestCase):
    def test_a_second_run_waits_for_the_lock_and_gives_up_after_its_timeout(self):
        first = lock.HostLock(self.deployment)
        held = first.lock()
        self.assertIsNotNone(held)
        second = lock.HostLock(deployment.Deployment(request(self.root, lockTimeoutSeconds=0.2)))
        started = time.monotonic()
        self.assertIsNone(second.lock())
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        first.unlock(held)
        again = second.lock()
        self.assertIsNotNone(again)
        second.unlock(again)

    def test_the_fence_refuses_a_lower_epoch_once_a_higher_one_acted(self):
        at = lambda epoch: lock.HostLock(deployment.Deployment(request(self.root, epoch=epoch)))
        os.makedirs(self.deployment.base)
        self.assertIsNone(at(5).fence(record=False))
        self.assertIsNone(at(3).fence(record=False), "nothing recorded yet")
        self.assertIsNone(at(5).fence(record=True))
        self.assertIn("below 5", at(3).fence(record=False))
        self.assertIsNone(at(None).fence(record=False), "a request without an epoch is not fenced")


class ProgramsTests(TestCase):
    def test_the_section_of_each_program_runs_from_the_slots_venv(self):
        conf = programs.Programs(self.deployment, None).supervisor_conf("A", "/builds/A")
        self.assertIn("[program:hello-web-A]\nnumprocs=1\nnumprocs_start=8100\n"
                      "command=/builds/A/venv/bin/hello-service --port %(process_num)d", conf)
        self.assertIn("[program:hello-worker-A]", conf)
        self.assertIn('PINWHEEL_SLOT="A"', conf)

    def test_a_process_older_than_its_build_is_stale(self):
        spec = self.deployment.spec("A")
        manifest = {"builtAt": {"boot": system.boot_id(), "uptime": 100.0}}
        self.assertEqual(programs.stale_groups(spec, manifest, {"hello-web-A": [10.0], "hello-worker-A": [100.2]}),
                         {"hello-web-A"})
        self.assertEqual(programs.settled(spec, {"hello-web-A": ["RUNNING"]}, {}, {"hello-web-A"}),
                         {"hello-web-A": ["STALE"], "hello-worker-A": []})


class HooksTests(TestCase):
    def test_a_command_runs_from_the_venv_with_the_programs_variables(self):
        self.deployment.spec("A")["programs"][0]["settings"] = {"environment": {"GREETING": "hi {slot} {port}"}}
        argv, environment, directory = hooks.Hooks(self.deployment).as_program(
            "A", "web", "/builds/A", ["manage", "migrate"], {"PINWHEEL_HOOK": "prepare"}, "hook")
        self.assertEqual((argv, directory), (["/builds/A/venv/bin/manage", "migrate"], "/builds/A"))
        self.assertEqual((environment["GREETING"], environment["PINWHEEL_HOOK"]), ("hi A 8100", "prepare"))

    def test_a_failing_hook_fails_its_step_with_its_last_lines(self):
        target = self.prepared()
        os.makedirs(os.path.join(target, "venv", "bin"))
        with self.assertRaises(wire.StepFailed) as raised:
            hooks.Hooks(self.deployment).run_hook("prepare", {"command": "/bin/sh -c 'echo broken; exit 4'"}, "A",
                                                  target)
        self.assertEqual(raised.exception.code, "hook")
        self.assertEqual(raised.exception.detail, "broken")


class LogsTests(TestCase):
    def test_each_process_has_its_log_and_a_failed_check_shows_the_first_ones_last_lines(self):
        part = logs.Logs(self.deployment, hooks.Hooks(self.deployment))
        files = part.log_files(["A"], [])
        self.assertEqual([os.path.basename(path) for path in files], ["hello-web-A_8100.log", "hello-worker-A_0.log"])
        os.makedirs(self.deployment.log_dir)
        with open(files[0], "w") as handle:
            handle.write("".join("line %d\n" % number for number in range(20)))
        tail = part.log_tail(self.deployment.spec("A"))
        self.assertIn("line 19", tail)
        self.assertNotIn("line 4\n", tail)


class RoutingTests(TestCase):
    def test_the_upstream_file_records_what_it_routes_to(self):
        router = routing.Router(self.deployment)
        system.write_atomically(self.deployment.nginx["upstream"], router.upstream_text("A"))
        self.assertEqual(router.read_upstream(), ("A", FINGERPRINT))
        self.assertIn("server 127.0.0.1:8100;", router.upstream_text("A"))
        system.write_atomically(self.deployment.nginx["upstream"], "upstream hand-written {}\n")
        self.assertEqual(router.read_upstream(), (None, None))


class HealthTests(TestCase):
    def test_a_slot_not_prepared_fails_verify_without_asking_anything(self):
        part = health.Health(self.deployment, None, routing.Router(self.deployment), None)
        with self.assertRaises(wire.StepFailed) as raised:
            part.verify("A")
        self.assertEqual(raised.exception.code, "notPrepared")

    def test_a_web_process_that_does_not_answer_is_a_problem(self):
        part = health.Health(self.deployment, None, None, None)
        problems = part.check_web(self.deployment.spec("A"))
        self.assertEqual(len(problems), 1)
        self.assertIn("web on port 8100: /healthz answered", problems[0])


class ArtifactStoreTests(unittest.TestCase):
    def test_a_file_arrives_in_pieces_and_is_named_by_its_hash(self):
        import hashlib
        data = b"wheel bytes" * 100
        sha256 = hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory() as root:
            os.chmod(root, 0o755)
            store = artifacts.ArtifactStore(root)
            entry = {"name": "hello-1.0-py3-none-any.whl", "sha256": sha256, "size": len(data)}
            self.assertEqual(store.missing([entry]), [{"sha256": sha256, "have": 0}])
            store.receive([dict(entry, offset=0, data=base64.b64encode(data[:500]).decode())])
            self.assertEqual(store.missing([entry]), [{"sha256": sha256, "have": 500}])
            store.receive([dict(entry, offset=500, data=base64.b64encode(data[500:]).decode())])
            self.assertEqual(store.missing([entry]), [])
            self.assertEqual(store.checked("A", entry), store.path(sha256))


class BytecodeTests(unittest.TestCase):
    def test_compiled_source_is_where_and_what_py_compile_writes(self):
        import importlib.util
        import py_compile
        with tempfile.TemporaryDirectory() as folder:
            source = os.path.join(folder, "module.py")
            with open(source, "w") as handle:
                handle.write("VALUE = 42\n")
            self.assertTrue(bytecode.compile_source(source))
            with open(importlib.util.cache_from_source(source), "rb") as handle:
                ours = handle.read()
            py_compile.compile(source, doraise=True)
            with open(importlib.util.cache_from_source(source), "rb") as handle:
                self.assertEqual(ours, handle.read())


class HostPlatformTests(unittest.TestCase):
    def test_the_agents_interpreter_is_reported_with_the_machine(self):
        platform = building.host_platform()
        self.assertEqual(platform["machine"], os.uname().machine)
        self.assertEqual(platform["implementation"], sys.implementation.name)
        self.assertEqual(platform["python"], "%d.%d" % sys.version_info[:2])
        self.assertIn(platform["libc"], ("glibc", "musl", None))
        json.dumps(platform)  # it travels in the observation as it is


class BuilderTests(TestCase):
    def builder(self):
        return building.Builder(self.deployment, None, programs.Programs(self.deployment, None),
                                hooks.Hooks(self.deployment))

    def test_a_missing_env_file_fails_before_anything_starts(self):
        self.deployment.spec("A")["programs"][1]["settings"] = {"envFile": os.path.join(self.root, "missing.env")}
        with self.assertRaises(wire.StepFailed) as raised:
            self.builder().check_env_files("A")
        self.assertEqual(raised.exception.code, "envFile")

    def test_an_install_that_finds_no_space_is_the_hosts_fault(self):
        builder = self.builder()
        builder.run = lambda argv: (1, "ERROR: [Errno 28] No space left on device")
        with self.assertRaises(wire.StepFailed) as raised:
            builder.checked(["/usr/bin/true"], "installing the pins")
        self.assertEqual(raised.exception.code, "diskFull")

    def test_garbage_collection_keeps_the_current_build_and_the_one_before(self):
        builder = self.builder()
        os.makedirs(self.deployment.slots_dir)
        for age, name in enumerate(("A-old", "A-older", "A-current", "B-other")):
            os.makedirs(os.path.join(self.deployment.slots_dir, name))
            os.utime(os.path.join(self.deployment.slots_dir, name), (1000 - age * 100, 1000 - age * 100))
        builder.collect_garbage("A", keep="A-current")
        self.assertEqual(sorted(os.listdir(self.deployment.slots_dir)), ["A-current", "A-old", "B-other"])


if __name__ == "__main__":
    unittest.main()
