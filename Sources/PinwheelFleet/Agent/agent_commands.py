"""The host commands a config may name (supervisor `ctl`, nginx `test` and `reload`) checked as the Swift side checks
them, the deploy root checked before anything is read from it, and the environment installers run in: what keeps a
config value or a host's settings from becoming something the agent runs."""
import os

from agent_wire import BadRequest, StepFailed
from agent_system import SYSTEM_PATH, inside, system_program


# What each configured command may run, after an optional `sudo` (`-n`): never a shell, never an interpreter.
COMMAND_PROGRAMS = {"supervisor.ctl": ("supervisorctl",), "nginx.test": ("nginx", "systemctl", "service"),
                    "nginx.reload": ("nginx", "systemctl", "service")}
# The characters of a configured command's words: nothing a shell or an option parser could read twice.
COMMAND_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/+@,=:-")
# The variables of the session that never reach an installer: each can add an index, a config file or a proxy.
INSTALL_VARIABLE_PREFIXES = ("PIP_", "UV_", "PYTHON", "VIRTUAL_ENV", "CONDA_", "PYENV", "PDM_", "POETRY_")


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
