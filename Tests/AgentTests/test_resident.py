"""Unit tests of the resident agent loop (Sources/PinwheelFleet/Agent/pinwheel_resident.py), standard library only.

Each test starts the loop as the controller does over SSH (`python3 -I -S -c <source>`), sends it the agent's source
and framed requests on a pipe, and reads framed replies; no supervisord, nginx or host is needed, because the
requests are ones the agent answers before touching a deploy root (malformed ones), or observe an empty root.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT_FOLDER = os.path.join(HERE, "..", "..", "Sources", "PinwheelFleet", "Agent")
with open(os.path.join(AGENT_FOLDER, "pinwheel_resident.py")) as _stream:
    RESIDENT = _stream.read()
# The agent as hosts receive it: its modules joined into one program text, as AgentScript joins them.
sys.path.insert(0, HERE)
import payload  # noqa: E402

AGENT = payload.source().encode("utf-8")


def frame(payload):
    return len(payload).to_bytes(4, "big") + payload


class Session:
    """A resident loop in a child process, as the controller runs it."""

    def __init__(self, source=AGENT):
        self.process = subprocess.Popen([sys.executable, "-I", "-S", "-c", RESIDENT], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.process.stdin.write(frame(source))
        self.process.stdin.flush()

    def ask(self, payload):
        self.process.stdin.write(frame(payload))
        self.process.stdin.flush()
        return self.reply()

    def reply(self):
        header = self.process.stdout.read(4)
        if len(header) < 4:
            return None
        return json.loads(self.process.stdout.read(int.from_bytes(header, "big")).decode("utf-8"))

    def close(self):
        self.process.stdin.close()
        status = self.process.wait(timeout=30)
        self.process.stdout.close()
        errors = self.process.stderr.read()
        self.process.stderr.close()
        return status, errors


class ResidentLoopTests(unittest.TestCase):
    def test_many_requests_one_process_each_answered_in_order(self):
        session = Session()
        pid = session.process.pid
        first = session.ask(b'{"protocol": 2, "action": "observe"}')
        self.assertFalse(first["ok"])
        self.assertEqual(first["code"], "badRequest", first)
        wrong = session.ask(b'{"protocol": 1}')
        self.assertEqual(wrong["code"], "protocol", wrong)
        garbage = session.ask(b"not json")
        self.assertEqual(garbage["code"], "badRequest")
        self.assertIn("not JSON", garbage["error"])
        not_object = session.ask(b"[1, 2]")
        self.assertEqual(not_object["code"], "badRequest")
        self.assertEqual(session.process.pid, pid)
        self.assertEqual(session.close()[0], 0, "end of input ends the loop cleanly")

    def test_logs_and_exec_are_refused_they_would_replace_the_process(self):
        session = Session()
        for action in ("logs", "exec"):
            answer = session.ask(json.dumps({"protocol": 2, "action": action}).encode())
            self.assertFalse(answer["ok"])
            self.assertEqual(answer["code"], "badRequest")
            self.assertIn(action, answer["error"])
        self.assertEqual(session.close()[0], 0)

    def test_what_the_agent_prints_never_mixes_into_the_frames(self):
        # An agent whose handle prints to standard output and runs a program that does too: both land on standard
        # error, and the reply frame is intact.
        noisy = (b'import os, sys\n'
                 b'def json_loads(text):\n    import json\n    return json.loads(text)\n'
                 b'def json_dumps(value):\n    import json\n    return json.dumps(value)\n'
                 b'def reply(ok, code=None, error=None):\n    return {"ok": ok, "code": code, "error": error}\n'
                 b'def handle(request):\n'
                 b'    sys.stdout.write("noise from the agent\\n"); sys.stdout.flush()\n'
                 b'    os.system("echo noise from a program; cat")\n'
                 b'    return {"ok": True, "echo": request}\n')
        session = Session(noisy)
        self.assertEqual(session.ask(b'{"n": 1}'), {"ok": True, "echo": {"n": 1}})
        self.assertEqual(session.ask(b'{"n": 2}'), {"ok": True, "echo": {"n": 2}})
        status, errors = session.close()
        self.assertEqual(status, 0)
        self.assertIn(b"noise from the agent", errors)
        self.assertIn(b"noise from a program", errors)

    def test_an_agent_that_does_not_compile_is_answered_once_then_the_loop_ends(self):
        session = Session(b"def broken(:\n")
        answer = session.reply()
        self.assertFalse(answer["ok"])
        self.assertEqual(answer["code"], "internal")
        self.assertIn("SyntaxError", answer["error"])
        self.assertEqual(session.close()[0], 0)

    def test_a_request_cut_short_is_never_run(self):
        session = Session()
        session.process.stdin.write(len(b'{"protocol": 2}').to_bytes(4, "big") + b'{"proto')
        session.process.stdin.flush()
        status, _ = session.close()
        self.assertEqual(status, 0, "a frame cut short by the end of input ends the loop without an answer")

    def test_observing_an_empty_root_through_the_loop(self):
        root = tempfile.mkdtemp(prefix="pinwheel-resident-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        os.chmod(root, 0o755)
        spec = {"python": sys.executable, "pins": [], "programs": [], "fingerprint": "f"}
        request = {"protocol": 2, "action": "observe", "steps": [], "environment": "e", "app": "a",
                   "settings": {"root": root}, "slots": {"A": spec, "B": spec}, "health": {}, "hooks": {},
                   "lockTimeoutSeconds": 5, "fullObservation": False}
        session = Session()
        first = session.ask(json.dumps(request).encode())
        second = session.ask(json.dumps(request).encode())
        self.assertEqual(first["code"], second["code"], "the same request gets the same answer twice: %s / %s" % (
            first, second))
        self.assertEqual(session.close()[0], 0)


if __name__ == "__main__":
    unittest.main()
