"""nginx routing: the upstream file that points nginx at a slot (the `route` step), verified through nginx after the
reload and put back when nginx refuses it."""
import os
import time

from agent_system import http_check, run_command, utc_now, write_atomically
from agent_commands import command_words, resolved_command
from agent_wire import StepFailed
from agent_deployment import Part, manifest_text


# After a switch, `nginx.check` is asked up to this many times, 20 ms apart (about five seconds when nginx answers).
ROUTE_VERIFY_ATTEMPTS = 250


class Router(Part):
    """Writes the upstream file for a slot, has nginx test and reload it, and verifies the switch through nginx."""

    def __init__(self, deployment):
        Part.__init__(self, deployment)
        self.env = deployment.env
        self.app = deployment.app
        self.root = deployment.root
        self.nginx = deployment.nginx

    def command(self, what, code, timeout=120):
        """Runs the configured command `what` (`nginx.test`, `nginx.reload`) as its argument vector, no shell."""
        key = what.split(".", 1)[1]
        argv = resolved_command(command_words(self.nginx[key], what, self.root), code)
        try:
            return run_command(argv, timeout)
        except OSError as error:
            return 127, "cannot run %s: %s" % (argv[0], error)

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
            self.deployment.measured["nginxVerifySeconds"] = round(time.monotonic() - verifying, 3)
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
            status, headers, error = http_check(check, 2)
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
