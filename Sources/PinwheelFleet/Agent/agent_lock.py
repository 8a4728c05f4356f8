"""The host's lock, so two runs never interleave, and the lease epoch's fence, so a controller that lost its lease
can no longer change the host."""
import fcntl
import os
import time

from agent_system import write_atomically


DEFAULT_LOCK_TIMEOUT_SECONDS = 600


class HostLock:
    """The environment's lock file and fence file on this host (`<root>/<env>/.lock`, `<root>/<env>/fence`)."""

    def __init__(self, deployment):
        self.env = deployment.env
        self.base = deployment.base
        self.epoch = deployment.epoch
        self.lock_timeout = deployment.lock_timeout or DEFAULT_LOCK_TIMEOUT_SECONDS

    def lock(self):
        """The host's lock, so two runs never interleave; None when another run held it past the timeout."""
        os.makedirs(self.base, exist_ok=True)
        handle = open(os.path.join(self.base, ".lock"), "a")
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except OSError:
                if time.monotonic() > deadline:
                    handle.close()
                    return None
                time.sleep(0.1)

    @staticmethod
    def unlock(handle):
        """Releases the lock `lock` took."""
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    def fence(self, record):
        """Why this request's lease epoch may not act here, or None: the host keeps the highest epoch it has seen for
        the environment (in <root>/<env>/fence) and refuses lower ones, so a controller that lost its lease cannot
        change the host. `record` (under the host's lock) raises the fence to this epoch. A request without an epoch
        (a controller that runs alone, an operator's apply) is not fenced."""
        if self.epoch is None:
            return None
        path = os.path.join(self.base, "fence")
        try:
            with open(path) as stream:
                text = stream.read(64).strip()
        except FileNotFoundError:
            text = "0"
        if not text.isdigit():
            return "refused: the fence file %s is unreadable (%r); remove it to let the current lease holder act" % (
                path, text[:20])
        highest = int(text)
        if self.epoch < highest:
            return ("refused: lease epoch %d is below %d, the highest this host has seen for %s: another controller "
                    "owns the environment now" % (self.epoch, highest, self.env))
        if record and self.epoch > highest:
            write_atomically(path, "%d\n" % self.epoch)
        return None
