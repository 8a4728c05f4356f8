"""Unit tests of the host doctor (Sources/PinwheelFleet/Doctor/pinwheel_doctor.py), standard library only.

Run from the repository root: `python3 -m unittest discover -s Tests/AgentTests -v`. They need neither supervisord
nor nginx: the supervisor `ctl` and nginx's `test` are small shell scripts that print what the real ones would, and
the config files are written to a temporary folder. `Tests/PinwheelFleetTests/DoctorOnARealFleetTests.swift` runs
the doctor against real ones.
"""
import base64
import contextlib
import http.server
import importlib.util
import io
import json
import os
import sys
import socket
import tempfile
import threading
import unittest
import unittest.mock

HERE = os.path.dirname(os.path.abspath(__file__))
DOCTOR_PATH = os.path.join(HERE, "..", "..", "Sources", "PinwheelFleet", "Doctor", "pinwheel_doctor.py")

sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location("pinwheel_doctor", DOCTOR_PATH)
doctor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(doctor)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


class Host:
    """A host in a temporary folder: supervisord's and nginx's configs, and scripts standing in for their tools."""

    def __init__(self, root, supervisord_running=True, nginx_ok=True, http_include=True):
        self.root = root
        self.include = os.path.join(root, "supervisor", "conf.d")
        os.makedirs(self.include)
        self.pidfile = os.path.join(root, "supervisor", "supervisord.pid")
        if supervisord_running:
            write(self.pidfile, "%d\n" % os.getpid())
        self.supervisor_conf = write(os.path.join(root, "supervisor", "supervisord.conf"),
                                     "[supervisord]\npidfile=%s\n\n[include]\nfiles = conf.d/*.conf\n" % self.pidfile)
        answer = "echo %d" % os.getpid() if supervisord_running else "echo 'unix:///x.sock no such file'; exit 7"
        self.ctl = write(os.path.join(root, "bin", "supervisorctl"), "#!/bin/sh\n%s\n" % answer, 0o755) + \
            " -c " + self.supervisor_conf
        self.upstream = os.path.join(root, "nginx", "pinwheel", "hello.conf")
        os.makedirs(os.path.dirname(self.upstream))
        self.nginx_conf = write(os.path.join(root, "nginx", "nginx.conf"), "events {}\nhttp {\n    %s\n    server {\n"
                                "        listen 80;\n    }\n}\n" % (
                                    "include pinwheel/*.conf;" if http_include else "# nothing included"))
        write(self.upstream, "upstream hello-web { server 127.0.0.1:9; }\n")
        dump = "cat <<'EOF'\n# configuration file %s:\n%s\n# configuration file %s:\n%s\nEOF\n" % (
            self.nginx_conf, open(self.nginx_conf).read(), self.upstream, open(self.upstream).read())
        body = dump if nginx_ok else "echo 'nginx: [emerg] unexpected \"}\" in nginx.conf:3' >&2; exit 1"
        self.nginx = write(os.path.join(root, "bin", "nginx"), "#!/bin/sh\n%s\n" % body, 0o755)

    def request(self, python=sys.executable, slot_bytes=1024):
        return {"protocol": 1, "app": "hello", "environment": "production", "python": python, "slotBytes": slot_bytes,
                "settings": {"user": "deploy", "port": 22, "root": os.path.join(self.root, "srv"),
                             "supervisor": {"include": self.include, "ctl": self.ctl},
                             "nginx": {"upstream": self.upstream, "test": "%s -t -c %s" % (self.nginx, self.nginx_conf),
                                       "reload": "%s -s reload" % self.nginx}}}


def checks(reply):
    return {check["name"]: check for check in reply["checks"]}


class DoctorTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.root = self.folder.name

    def tearDown(self):
        self.folder.cleanup()

    def test_a_ready_host_passes_every_required_check(self):
        host = Host(self.root)
        reply = doctor.handle(host.request())
        self.assertTrue(reply["ok"], reply)
        failed = [check for check in reply["checks"] if not check["ok"] and not check["optional"]]
        self.assertEqual(failed, [])
        for check in reply["checks"]:
            if check["ok"]:
                self.assertIsNone(check["fix"])

    def test_the_host_time_is_read(self):
        reply = doctor.handle(Host(self.root).request())
        self.assertAlmostEqual(reply["time"], __import__("time").time(), delta=30)

    def test_a_missing_interpreter_is_named_with_its_fix(self):
        reply = doctor.handle(Host(self.root).request(python="/nonexistent/python3.99"))
        python = checks(reply)["python"]
        self.assertFalse(python["ok"])
        self.assertIn("/nonexistent/python3.99 does not exist", python["detail"])
        self.assertIn("python:", python["fix"])

    def test_each_slots_own_interpreter_is_checked_under_its_name(self):
        request = Host(self.root).request()
        request["interpreters"] = [{"name": "python", "path": sys.executable},
                                   {"name": "python (slot B)", "path": "/nonexistent/python3.13"}]
        reply = checks(doctor.handle(request))
        self.assertTrue(reply["python"]["ok"])
        self.assertFalse(reply["python (slot B)"]["ok"])
        self.assertIn("/nonexistent/python3.13 does not exist", reply["python (slot B)"]["detail"])

    def test_an_interpreter_without_venv_is_reported(self):
        fake = write(os.path.join(self.root, "bin", "python-novenv"),
                     "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'venv'\"; exit 1\n", 0o755)
        python = checks(doctor.handle(Host(self.root).request(python=fake)))["python"]
        self.assertFalse(python["ok"])
        self.assertIn("cannot import venv", python["detail"])
        self.assertIn("python3-venv", python["fix"])

    def fake_python(self, pip=None, ensurepip=False):
        """An interpreter whose pip is `pip` (a version, or None: no pip) and that has ensurepip or not."""
        pip_answer = "echo %s; exit %d" % (pip, 0 if pip and tuple(int(p) for p in pip.split(".")[:2]) >= (22, 3) else 1) \
            if pip else "echo \"No module named 'pip'\"; exit 1"
        return write(os.path.join(self.root, "bin", "python-%s-%s" % (pip, ensurepip)),
                     "#!/bin/sh\ncase \"$3\" in\n  *ensurepip*) exit %d;;\n  *pip*) %s;;\nesac\nexit 0\n" % (
                         0 if ensurepip else 1, pip_answer), 0o755)

    def installer(self, python, shipped_uv=None):
        report = doctor.Report()
        doctor.check_installer(report, python, shipped_uv, "installer")
        return checks({"checks": report.checks})["installer"]

    def test_without_uv_the_interpreters_own_pip_installs_and_needs_no_ensurepip(self):
        check = self.installer(self.fake_python(pip="24.0"))
        self.assertTrue(check["ok"], check)
        self.assertIn("pip 24.0", check["detail"])
        self.assertIn("no ensurepip is needed", check["detail"])

    def test_without_uv_an_old_pip_needs_ensurepip_for_each_venv(self):
        self.assertTrue(self.installer(self.fake_python(pip="21.3", ensurepip=True))["ok"])
        check = self.installer(self.fake_python(pip="21.3"))
        self.assertFalse(check["ok"])
        self.assertIn("no pip 22.3 or later", check["detail"])
        self.assertIn("python3-pip", check["fix"])
        self.assertIn("ship", check["fix"])

    def test_without_uv_nor_pip_nor_ensurepip_nothing_can_install(self):
        check = self.installer(self.fake_python())
        self.assertFalse(check["ok"])
        self.assertIn("lacks", check["detail"])

    def test_a_shipped_uv_needs_no_pip_on_the_host(self):
        check = self.installer(self.fake_python(), shipped_uv="0.9.2")
        self.assertTrue(check["ok"], check)
        self.assertIn("ships uv 0.9.2", check["detail"])
        request = Host(self.root).request(python=self.fake_python())
        request["shippedUV"] = "0.9.2"
        with unittest.mock.patch.object(doctor, "has_uv", lambda: None):
            reply = checks(doctor.handle(request))
        self.assertIn("ships uv 0.9.2", reply["uv"]["detail"])
        self.assertTrue(reply["installer"]["ok"], reply["installer"])
        self.assertTrue(reply["python"]["ok"], reply["python"])

    def test_supervisords_socket_is_checked_as_the_agent_reaches_it(self):
        host = Host(self.root)
        path = os.path.join(self.root, "supervisor", "s.sock")
        with open(host.supervisor_conf, "a") as handle:
            handle.write("\n[unix_http_server]\nfile = %s\n" % path)
        missing = checks(doctor.handle(host.request()))["supervisord socket"]
        self.assertFalse(missing["ok"])
        self.assertIn("%s does not exist" % path, missing["detail"])
        self.assertIn("restart supervisord", missing["fix"])
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        try:
            reached = checks(doctor.handle(host.request()))["supervisord socket"]
            self.assertTrue(reached["ok"], reached)
            self.assertIn("%s accepts " % path, reached["detail"])
            self.assertIsNone(reached["fix"])
        finally:
            server.close()
        # supervisorctl logs in: the agent runs the `ctl` command, which the supervisorctl check covers.
        with open(host.supervisor_conf, "a") as handle:
            handle.write("\n[supervisorctl]\nusername = admin\n")
        self.assertNotIn("supervisord socket", checks(doctor.handle(host.request())))

    def test_a_stopped_supervisords_socket_is_not_checked_again(self):
        host = Host(self.root, supervisord_running=False)
        with open(host.supervisor_conf, "a") as handle:
            handle.write("\n[supervisorctl]\nserverurl = unix://%s\n" % os.path.join(self.root, "gone.sock"))
        reply = checks(doctor.handle(host.request()))
        self.assertFalse(reply["supervisord"]["ok"])
        self.assertNotIn("supervisord socket", reply)

    def test_supervisord_stopped(self):
        reply = checks(doctor.handle(Host(self.root, supervisord_running=False).request()))
        self.assertFalse(reply["supervisord"]["ok"])
        self.assertFalse(reply["supervisorctl"]["ok"])
        self.assertIn("no such file", reply["supervisorctl"]["detail"])
        self.assertIn("supervisord -c ", reply["supervisord"]["fix"])

    def test_a_stale_pid_file_is_not_running(self):
        host = Host(self.root)
        write(host.pidfile, "999999999\n")
        self.assertFalse(checks(doctor.handle(host.request()))["supervisord"]["ok"])

    def test_an_include_folder_that_is_missing_or_not_included(self):
        host = Host(self.root)
        request = host.request()
        request["settings"]["supervisor"]["include"] = os.path.join(self.root, "elsewhere")
        reply = checks(doctor.handle(request))
        self.assertFalse(reply["supervisor include folder"]["ok"])
        self.assertIn("does not exist", reply["supervisor include folder"]["detail"])
        self.assertIn("install -d -o ", reply["supervisor include folder"]["fix"])
        self.assertFalse(reply["supervisor include"]["ok"])
        self.assertIn("files = %s/*.conf" % os.path.join(self.root, "elsewhere"), reply["supervisor include"]["fix"])

    def test_a_folder_that_is_a_file_is_not_writable(self):
        path = write(os.path.join(self.root, "file"), "x")
        self.assertIn("is not a folder", doctor.writable(path))
        self.assertIsNone(doctor.writable(self.root))
        self.assertEqual(os.listdir(self.root), ["file"], "the probe file is removed")

    def test_nginx_config_broken(self):
        reply = checks(doctor.handle(Host(self.root, nginx_ok=False).request()))
        self.assertFalse(reply["nginx -t"]["ok"])
        self.assertIn("unexpected", reply["nginx -t"]["detail"])
        self.assertFalse(reply["upstream included"]["ok"])

    def test_nginx_missing(self):
        host = Host(self.root)
        request = host.request()
        request["settings"]["nginx"]["test"] = "/nonexistent/nginx -t"
        reply = checks(doctor.handle(request))
        self.assertFalse(reply["nginx"]["ok"])
        self.assertIn("apt-get install nginx", reply["nginx"]["fix"])
        self.assertNotIn("nginx -t", reply)

    def test_upstream_not_included_at_http_level(self):
        reply = checks(doctor.handle(Host(self.root, http_include=False).request()))
        self.assertFalse(reply["upstream included"]["ok"])
        self.assertIn("include %s;" % os.path.join(self.root, "nginx", "pinwheel", "hello.conf"),
                      reply["upstream included"]["fix"])

    def test_disk_space_for_two_slots(self):
        reply = checks(doctor.handle(Host(self.root).request(slot_bytes=1 << 60)))
        self.assertFalse(reply["disk"]["ok"])
        self.assertIn("needed for two slots", reply["disk"]["detail"])

    def test_disk_needs_twice_the_largest_build(self):
        host = Host(self.root)
        build = os.path.join(self.root, "srv", "production", "slots", "A-" + "a" * 64)
        write(os.path.join(build, "venv", "big"), "x" * 300000)
        os.symlink(os.path.basename(build), os.path.join(self.root, "srv", "production", "slots", "A"))
        self.assertIn("0 MiB needed", checks(doctor.handle(host.request(slot_bytes=1)))["disk"]["detail"])
        self.assertEqual(doctor.folder_bytes(build), 300000)

    def test_a_root_others_can_write_is_reported_as_the_agent_would_refuse_it(self):
        host = Host(self.root)
        root = os.path.join(self.root, "srv")
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o777)
        found = checks(doctor.handle(host.request()))["root"]
        self.assertFalse(found["ok"])
        self.assertIn("writable by its group or others (mode 777): the agent refuses it", found["detail"])

    def test_a_root_that_cannot_be_made(self):
        host = Host(self.root)
        request = host.request()
        request["settings"]["root"] = os.path.join(write(os.path.join(self.root, "plain"), "x"), "srv")
        self.assertFalse(checks(doctor.handle(request))["root"]["ok"])


class Answering(http.server.BaseHTTPRequestHandler):
    """Answers 502 (the placeholder upstream's answer through nginx), with X-Pinwheel-Slot when the path is /slot."""

    def do_GET(self):
        self.send_response(502)
        if self.path == "/slot":
            self.send_header("X-Pinwheel-Slot", "none")
        self.end_headers()

    def log_message(self, *arguments):
        pass


class SwitchVerificationTests(unittest.TestCase):
    def setUp(self):
        self.server = http.server.HTTPServer(("127.0.0.1", 0), Answering)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def switch(self, check):
        report = doctor.Report()
        doctor.check_switch(report, {"check": check} if check else {}, "hello-api")
        return report.checks[0]

    def test_a_check_answering_with_the_header_passes_whatever_its_status(self):
        check = self.switch(self.base + "/slot")
        self.assertTrue(check["ok"], check)
        self.assertIn("X-Pinwheel-Slot: none", check["detail"])

    def test_without_the_header_any_answer_counts_which_is_optional(self):
        check = self.switch(self.base + "/healthz")
        self.assertFalse(check["ok"])
        self.assertTrue(check["optional"])
        self.assertIn("add_header X-Pinwheel-Slot $pinwheel_hello_api_slot always;", check["fix"])

    def test_without_a_check_a_switch_is_not_verified_which_is_optional(self):
        check = self.switch(None)
        self.assertFalse(check["ok"])
        self.assertTrue(check["optional"])
        self.assertIn("check:", check["fix"])

    def test_a_check_nobody_answers_is_required(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        check = self.switch("http://127.0.0.1:%d/healthz" % port)
        self.assertFalse(check["ok"])
        self.assertFalse(check["optional"])
        self.assertIn("does not answer", check["detail"])


class ProbeAnswering(http.server.BaseHTTPRequestHandler):
    """Answers as Pinwheel's probe server block does: whatever the status, X-Pinwheel-Slot on every path."""

    def do_GET(self):
        self.send_response(502)
        self.send_header("X-Pinwheel-Slot", "B")
        self.end_headers()

    def log_message(self, *arguments):
        pass


class ProbeVerificationTests(unittest.TestCase):
    """With `nginx.probe`, the probe the agent writes into the upstream file verifies a switch."""

    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.upstream = os.path.join(self.folder.name, "hello.conf")
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.folder.cleanup()

    def serve(self, handler):
        server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return "127.0.0.1:%d" % server.server_address[1]

    @staticmethod
    def free_address():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return "127.0.0.1:%d" % probe.getsockname()[1]

    def switch(self, probe, written, check=None):
        text = "upstream hello-web { server 127.0.0.1:9; }\n"
        if written:
            text += "server {\n    listen %s;\n}\n" % probe
        write(self.upstream, text)
        report = doctor.Report()
        settings = {"probe": probe, "upstream": self.upstream}
        if check:
            settings["check"] = check
        doctor.check_switch(report, settings, "hello-api")
        return report.checks[0]

    def test_before_the_first_switch_a_free_address_is_enough(self):
        probe = self.free_address()
        check = self.switch(probe, written=False)
        self.assertTrue(check["ok"], check)
        self.assertIn("is free; the first switch writes it into " + self.upstream, check["detail"])

    def test_before_the_first_switch_an_address_in_use_is_required(self):
        probe = self.serve(Answering)
        check = self.switch(probe, written=False)
        self.assertFalse(check["ok"])
        self.assertFalse(check["optional"])
        self.assertIn("something already listens on " + probe, check["detail"])
        self.assertIn("probe: off", check["fix"])

    def test_a_written_probe_must_answer_with_the_slot(self):
        probe = self.serve(ProbeAnswering)
        check = self.switch(probe, written=True)
        self.assertTrue(check["ok"], check)
        self.assertIn("answers (status 502) with X-Pinwheel-Slot: B", check["detail"])

        silent = self.free_address()
        check = self.switch(silent, written=True)
        self.assertFalse(check["ok"])
        self.assertIn("does not answer", check["detail"])
        self.assertIn("reload nginx", check["fix"])

        other = self.serve(Answering)
        check = self.switch(other, written=True)
        self.assertFalse(check["ok"])
        self.assertIn("it is not Pinwheel's probe", check["detail"])

    def test_without_a_web_program_to_proxy_to_there_is_no_probe(self):
        write(self.upstream, "upstream hello-web { server 127.0.0.1:9; }\n")
        report = doctor.Report()
        doctor.check_switch(report, {"probe": self.free_address(), "upstream": self.upstream}, "hello-api", False)
        check = report.checks[0]
        self.assertFalse(check["ok"])
        self.assertIn("no `nginx.check`", check["detail"])

    def test_with_the_probe_a_check_without_the_header_is_enough_and_one_that_does_not_answer_is_not(self):
        probe = self.serve(ProbeAnswering)
        healthz = "http://%s/healthz" % self.serve(Answering)
        check = self.switch(probe, written=True, check=healthz)
        self.assertTrue(check["ok"], check)
        self.assertIn(healthz + " answers (status 502)", check["detail"])

        check = self.switch(probe, written=True, check="http://%s/healthz" % self.free_address())
        self.assertFalse(check["ok"])
        self.assertIn("does not answer", check["detail"])


class NginxConfigTests(unittest.TestCase):
    def test_tokens(self):
        self.assertEqual(doctor.nginx_tokens('http { include "a b.conf"; # include c;\n }'),
                         ["http", "{", "include", "a b.conf", ";", "}"])
        self.assertEqual(doctor.nginx_tokens("location ~ \\.php$ { return 200 'x;y'; }"),
                         ["location", "~", "\\.php$", "{", "return", "200", "x;y", ";", "}"])

    def test_include_in_http_directly(self):
        files = [("/etc/nginx/nginx.conf", "http { include /etc/nginx/pinwheel/hello.conf; }")]
        self.assertTrue(doctor.included_at_http(files, "/etc/nginx/pinwheel/hello.conf"))
        self.assertFalse(doctor.included_at_http(files, "/etc/nginx/pinwheel/other.conf"))

    def test_include_relative_to_the_main_file_and_by_glob(self):
        files = [("/etc/nginx/nginx.conf", "http { include conf.d/*.conf; }")]
        self.assertTrue(doctor.included_at_http(files, "/etc/nginx/conf.d/hello.conf"))
        self.assertFalse(doctor.included_at_http(files, "/etc/nginx/conf.d/sub/hello.conf"), "* never crosses /")

    def test_include_inside_a_server_block_is_not_http_level(self):
        files = [("/etc/nginx/nginx.conf", "http { server { include /etc/nginx/pinwheel/hello.conf; } }")]
        self.assertFalse(doctor.included_at_http(files, "/etc/nginx/pinwheel/hello.conf"))
        files = [("/etc/nginx/nginx.conf", "events {} include /etc/nginx/pinwheel/hello.conf; http { }")]
        self.assertFalse(doctor.included_at_http(files, "/etc/nginx/pinwheel/hello.conf"))

    def test_include_through_a_file_included_in_http(self):
        files = [("/etc/nginx/nginx.conf", "http {\n include /etc/nginx/conf.d/*.conf;\n}\n"),
                 ("/etc/nginx/conf.d/pinwheel-hello.conf", "include /etc/nginx/pinwheel/hello.conf;\n")]
        self.assertTrue(doctor.included_at_http(files, "/etc/nginx/pinwheel/hello.conf"))

    def test_a_loop_of_includes_ends(self):
        files = [("/etc/nginx/nginx.conf", "http { include /etc/nginx/a.conf; }"),
                 ("/etc/nginx/a.conf", "include /etc/nginx/a.conf;")]
        self.assertFalse(doctor.included_at_http(files, "/etc/nginx/pinwheel/hello.conf"))

    def test_dump_files(self):
        dump = "nginx: the configuration file ok\n# configuration file /etc/nginx/nginx.conf:\nhttp {}\n\n" \
               "# configuration file /etc/nginx/b.conf:\nupstream x {}\n"
        self.assertEqual(doctor.nginx_files(dump), [("/etc/nginx/nginx.conf", "http {}\n\n"),
                                                    ("/etc/nginx/b.conf", "upstream x {}\n")])

    def test_dump_command(self):
        self.assertEqual(doctor.nginx_dump_command("nginx -t -c /etc/nginx/my conf"), "nginx -T -c /etc/nginx/my conf")
        self.assertEqual(doctor.nginx_dump_command("sudo nginx -t"), "sudo nginx -T")
        self.assertIsNone(doctor.nginx_dump_command("/usr/local/bin/check-nginx"))
        self.assertIsNone(doctor.nginx_dump_command("nginx -t 'unterminated"))


class SupervisorConfigTests(unittest.TestCase):
    def test_config_path_from_ctl(self):
        self.assertEqual(doctor.supervisor_config_path("supervisorctl -c /srv/s.conf"), "/srv/s.conf")
        self.assertEqual(doctor.supervisor_config_path("supervisorctl --configuration=/srv/s.conf"), "/srv/s.conf")

    def test_includes_relative_to_the_config(self):
        with tempfile.TemporaryDirectory() as root:
            path = write(os.path.join(root, "supervisord.conf"),
                         "[include]\nfiles = conf.d/*.conf %(here)s/more/*.ini /etc/x/*.conf ; comment\n")
            patterns = doctor.supervisor_includes(doctor.read_supervisor_config(path), path)
            self.assertEqual(patterns, [os.path.join(root, "conf.d/*.conf"), os.path.join(root, "more/*.ini"),
                                        "/etc/x/*.conf"])
            self.assertIsNone(doctor.read_supervisor_config(os.path.join(root, "missing.conf")))


class ProtocolTests(unittest.TestCase):
    def test_another_protocol_is_refused(self):
        reply = doctor.handle({"protocol": 2})
        self.assertFalse(reply["ok"])
        self.assertIn("protocol 1", reply["error"])

    def test_a_malformed_request_is_an_error_not_a_crash(self):
        reply = doctor.handle({"protocol": 1, "settings": {}})
        self.assertFalse(reply["ok"])
        self.assertIn("malformed request", reply["error"])

    def test_main_prints_one_result_line(self):
        for encoded in ("not base64 !", base64.b64encode(json.dumps({"protocol": 7}).encode()).decode()):
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                doctor.main(encoded)
            line = output.getvalue()
            self.assertTrue(line.startswith(doctor.MARKER))
            self.assertFalse(json.loads(line[len(doctor.MARKER):])["ok"])


if __name__ == "__main__":
    unittest.main()
