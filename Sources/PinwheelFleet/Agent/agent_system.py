"""What the agent asks of the host itself, each as cheaply as the standard library's C modules allow: connections,
commands started with `posix_spawn` from the system's folders only, threads, atomic writes, plain HTTP, and the
clock since boot (see `pinwheel_agent.py` for why the public modules are avoided)."""
import _thread
import os
import time

try:
    import _socket
except ImportError:  # an interpreter without CPython's C modules: the public module, at its cost
    _socket = None


# What pip, uv and the C library print when a write finds no space (ENOSPC): the host's fault, not the release's.
DISK_FULL = "No space left on device"
ENOSPC = 28  # errno.ENOSPC on Linux, without importing errno
# The folders the agent takes the host's own programs from (runuser, tail, rm, sudo, supervisorctl, nginx): the
# system's, never the session's PATH, where a slot's bin/ or a relative folder could come first.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def connect(host, port, timeout):
    """A TCP connection, as `socket.create_connection` makes it, from the C module (`socket` imports `enum`)."""
    if _socket is None:
        import socket
        return socket.create_connection((host, port), timeout=timeout)
    try:
        name = host.encode("ascii")  # a str host would go through the idna codec (and import unicodedata)
    except UnicodeError:
        import socket
        return socket.create_connection((host, port), timeout=timeout)
    error = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        connection = _socket.socket(family, kind, proto)
        try:
            connection.settimeout(timeout)
            connection.connect(address)
            return connection
        except OSError as failure:
            connection.close()
            error = failure
    raise error or OSError("cannot resolve %s" % host)


def connect_unix(path, timeout):
    """A connection to a unix socket (supervisord's)."""
    if _socket is None:
        import socket
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        connection.settimeout(timeout)
        connection.connect(path)
    except OSError:
        connection.close()
        raise
    return connection


def run_together(calls):
    """The results of the calls, each run on its own thread (`_thread`: `threading` imports `collections`)."""
    results = [None] * len(calls)
    done = _thread.allocate_lock()
    left = [len(calls)]
    counting = _thread.allocate_lock()
    if calls:
        done.acquire()

    def run(index):
        try:
            results[index] = calls[index]()
        except BaseException as error:  # the caller sees it as the call's result, never a thread dying silently
            results[index] = error
        finally:
            with counting:
                left[0] -= 1
                if left[0] == 0:
                    done.release()

    for index in range(len(calls)):
        _thread.start_new_thread(run, (index,))
    if calls:
        done.acquire()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def system_program(name):
    """The absolute path of the host's program `name` in SYSTEM_PATH; None when it has none."""
    for folder in SYSTEM_PATH:
        path = folder + "/" + name
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def find_program(name):
    """The path of the executable `name` on PATH, as `shutil.which` finds it; None when there is none. (Importing
    shutil, with fnmatch and re, costs a prepare ~8 ms.)"""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not folder.startswith("/"):
            continue  # a relative folder (``, `.`) would be the current folder's program
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def remove_tree(path):
    """Removes the folder `path` and everything in it, ignoring errors, as `shutil.rmtree(path, ignore_errors=True)`
    does: by `rm -rf`, which does not follow symbolic links, because every release removes an old build and
    importing shutil costs ~8 ms. Without `rm`, shutil does it."""
    try:
        run_command([system_program("rm") or "/bin/rm", "-rf", "--", path], 600)
    except OSError:
        import shutil
        shutil.rmtree(path, ignore_errors=True)


def inside(path, folder):
    """Whether `path` is `folder` or lies inside it (both absolute, compared as written and with links resolved)."""
    for candidate, base in ((path, folder), (os.path.realpath(path), os.path.realpath(folder))):
        base = base.rstrip("/")
        if not base or candidate == base or candidate.startswith(base + "/"):
            return True
    return False


def run_command(argv, timeout, environment=None):
    """(exit status, output) of `argv`, standard error in the output and standard input empty, as `subprocess.run`
    gives them; a status below 0 is the signal that ended it. Started with `os.posix_spawn`: `subprocess` imports
    `signal`, `selectors` and `threading`, ~8 ms of CPU on every switch. Past `timeout` seconds the command is killed
    and TimeoutError raised. `argv[0]` must be an absolute path (no PATH is searched); `environment` replaces the
    agent's own."""
    import select
    if not argv[0].startswith("/"):
        raise FileNotFoundError(2, "not an absolute path; the agent searches no PATH", argv[0])
    reading, writing = os.pipe()
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ if environment is None else environment, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, writing, 1),
            (os.POSIX_SPAWN_DUP2, writing, 2)])
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)
    chunks = []
    deadline = time.monotonic() + timeout
    poller = select.poll()
    poller.register(reading, select.POLLIN | select.POLLHUP)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise TimeoutError("%s ran for more than %s seconds and was stopped" % (argv[-1], timeout))
            if poller.poll(max(1, int(left * 1000))):
                chunk = os.read(reading, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(reading)
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return code, text


def write_atomically(path, content):
    """Writes `content` (text, or bytes) to a temporary file beside `path` and renames it into place: readers see the
    old file or the new.

    The temporary file is named after this process (the host's lock keeps two agents from writing one file), not
    made by `tempfile`, whose import costs a switch ~2.5 ms."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, ".pinwheel-%d-%s" % (os.getpid(), os.path.basename(path)))
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(handle, "wb" if isinstance(content, bytes) else "w") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


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
    connection = connect(host, int(port or 80), timeout)
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


def http_check(url, timeout):
    """Status and (lower-cased) headers of a GET, or (None, {}, error)."""
    try:
        status, headers = http_get(url, timeout)
        return status, headers, None
    except Exception as error:
        return None, {}, str(error) or type(error).__name__


def utc_now():
    """Now, as the manifests record moments: `2026-11-24T03:14:02Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def uptime():
    """Seconds since this machine booted (a clock no one sets), or None without /proc."""
    try:
        with open("/proc/uptime") as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def boot_id():
    """This boot's id: times since boot compare only within one boot."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return None


def process_start(pid):
    """When process `pid` started, in seconds since boot, from /proc to the hundredth (supervisord's own times are
    whole seconds of a clock that can be set); None where there is no /proc or no such process."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
        return int(stat[stat.rindex(")") + 2:].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def process_age(pid):
    """Seconds since process `pid` started; None where that cannot be known."""
    start, now = process_start(pid), uptime()
    return None if start is None or now is None else now - start


def built_at():
    """When a build is made, as the manifest keeps it: this boot and the seconds since it."""
    return {"boot": boot_id(), "uptime": uptime()}
