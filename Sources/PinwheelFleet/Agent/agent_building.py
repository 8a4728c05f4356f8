"""What a host does for `prepare`: builds the slot (a virtualenv from the slot's interpreter, exactly its pins, and
their bytecode) in a folder of its own, or reuses an equal build, and only then moves the slot's link to it."""
import os
import sys
import time

from agent_wire import StepFailed
from agent_system import DISK_FULL, built_at, find_program, remove_tree, run_command, utc_now, write_atomically
from agent_commands import install_environment
from agent_deployment import Part, manifest_text
from agent_artifacts import ArtifactStore, ShippedUV
from agent_programs import settings_of
from agent_bytecode import BytecodeFormat, compile_bytecode


class Builder(Part):
    """Prepares a slot (the `prepare` step): builds it or reuses an equal build, runs its prepare hook, writes its
    programs' section and moves its link, keeping the build before it for a rollback."""

    def __init__(self, deployment, supervisord, programs, hooks):
        Part.__init__(self, deployment)
        self.root = deployment.root
        self.slots = deployment.slots
        self.slots_dir = deployment.slots_dir
        self.commit = deployment.commit
        self.artifacts = deployment.artifacts
        self.shipped_uv = deployment.shipped_uv
        self.supervisord = supervisord
        self.programs = programs
        self.hooks = hooks

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
                    self.hooks.run_hook("prepare", hook, slot, target)
                except BaseException:
                    # Not a complete build: the next prepare builds it again, and runs the hook again.
                    remove_tree(target)
                    raise
        else:
            self.say("slot %s: %s already built, reusing it" % (slot, os.path.basename(target)))
        self.check_env_files(slot)
        rewritten = self.programs.write_supervisor_conf(slot, target)
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
            # Who compiled the build's bytecode, for its manifest: the agent, in this interpreter format (its
            # `cache_tag`, with what it compiled and what it took from the running builds), or the installer.
            compiled_by = {"by": "installer"}
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
                    reused, compiled = compile_bytecode(venv, self.earlier_venvs(slot, target), form)
                    bytecode = "; bytecode of %d files compiled, of %d taken from the running builds" % (compiled, reused)
                    compiled_by = {"by": "agent", "tag": form.tag, "compiled": compiled, "reused": reused}
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
            self.write_manifest(slot, target, installer, compiled_by)
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

    def run(self, argv, timeout=600):
        """Runs an installer (uv, pip, venv) with arguments, no shell, isolated from the host's pip and uv settings."""
        return run_command(argv, timeout, install_environment())

    def checked(self, argv, what):
        code, text = self.run(argv)
        if code != 0 and DISK_FULL in text:
            raise StepFailed("diskFull", "%s failed (exit %d): the host's disk is full; free space on it:\n%s" % (
                what, code, text.strip()[-4000:]))
        if code != 0:
            raise StepFailed("install", "%s failed (exit %d):\n%s" % (what, code, text.strip()[-4000:]))

    def write_manifest(self, slot, target, installer, bytecode=None):
        """Written last, so a build is only taken for complete when it has one."""
        manifest = {
            "fingerprint": self.fingerprint(slot),
            "build": self.slots[slot].get("build"),
            "pins": [line.split(" ", 1)[0] for line in self.spec(slot)["requirements"].splitlines() if line],
            "commit": self.commit,
            "preparedAt": utc_now(),
            "installer": installer,
            "bytecode": bytecode or {"by": "installer"},
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

    def collect_garbage(self, slot, keep):
        """Keeps the current build and the one before it, so reverting a release re-links instead of reinstalling."""
        builds = []
        for name in os.listdir(self.slots_dir):
            if name.startswith(slot + "-") and name != keep:
                path = os.path.join(self.slots_dir, name)
                builds.append((os.path.getmtime(path), path))
        for _, path in sorted(builds, reverse=True)[1:]:
            remove_tree(path)


def host_platform():
    """What the controller needs to ship this host only what it can install: the machine (`uname -m`), the C library
    (`glibc` with its version, or `musl`), whether the host has a uv of its own (it keeps using it), and the
    interpreter the agent runs on, the environment's (its implementation and `major.minor`). Cheap: no process is
    started."""
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
    return {"machine": os.uname().machine, "libc": libc, "libcVersion": version, "uv": Builder.installer() is not None,
            "implementation": sys.implementation.name, "python": "%d.%d" % sys.version_info[:2]}
