"""The host's store of the files the controller ships (`source: {ship: ...}`), by SHA-256."""
import binascii
import fcntl
import os

from agent_wire import StepFailed


def new_sha256():
    try:
        from _sha2 import sha256
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256()


class ArtifactStore:
    """The files the controller ships (`source: {ship: ...}`), named by their SHA-256 in `<root>/.pinwheel/artifacts`.

    A file arrives into `<sha256>.partial` (created with an exclusive, no-follow open; later pieces are appended only
    when the partial file is the SSH user's own regular file of exactly the size the piece continues), and is renamed
    to its hash only when the whole file hashes to it. An interrupted transfer leaves the partial file, which the next
    transfer continues from its size. Every file is checked again by hash before a build uses it."""

    def __init__(self, root):
        self.folder = os.path.join(root, ".pinwheel", "artifacts")

    def ensure(self):
        for folder in (os.path.dirname(self.folder), self.folder):
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                pass
            status = os.lstat(folder)
            if status.st_mode & 0o170000 != 0o040000 or status.st_uid != os.geteuid() or status.st_mode & 0o022:
                raise StepFailed("install", "%s is not a folder of the SSH user's own that only it may write; remove it "
                                 "and apply again" % folder)

    def path(self, sha256):
        return os.path.join(self.folder, sha256)

    @staticmethod
    def owned_file(status):
        return status.st_mode & 0o170000 == 0o100000 and status.st_uid == os.geteuid()

    def size_of(self, path):
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            return None
        return status.st_size if self.owned_file(status) else None

    def missing(self, artifacts):
        """The files the store lacks: [{"sha256", "have"}], `have` the bytes of its partial file (0 for none)."""
        self.ensure()
        result = []
        seen = set()
        for artifact in artifacts:
            if artifact["sha256"] in seen or self.size_of(self.path(artifact["sha256"])) == artifact["size"]:
                continue
            seen.add(artifact["sha256"])
            have = self.size_of(self.path(artifact["sha256"]) + ".partial") or 0
            result.append({"sha256": artifact["sha256"], "have": have if have <= artifact["size"] else 0})
        return result

    def receive(self, pieces):
        """Appends each piece to its partial file and names each complete file by its hash once it matches it."""
        self.ensure()
        for piece in pieces:
            sha256, name, size, offset = piece["sha256"], piece["name"], piece["size"], piece["offset"]
            data = binascii.a2b_base64(piece["data"])
            partial = self.path(sha256) + ".partial"
            if offset == 0 and os.path.lexists(partial):
                os.unlink(partial)
            flags = os.O_WRONLY | os.O_NOFOLLOW | (os.O_CREAT | os.O_EXCL if offset == 0 else os.O_APPEND)
            try:
                handle = os.open(partial, flags, 0o600)
            except OSError as error:
                raise StepFailed("install", "%s: cannot write %s: %s; it is sent again at the next apply" % (
                    name, partial, error.strerror))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                status = os.fstat(handle)
                if not self.owned_file(status) or status.st_size != offset:
                    os.unlink(partial)
                    raise StepFailed("install", "%s: the host's partial file changed while it was sent (%d bytes, "
                                     "expected %d); it is sent again from the start at the next apply" % (
                                         name, status.st_size, offset))
                if offset + len(data) > size:
                    os.unlink(partial)
                    raise StepFailed("install", "%s: more bytes arrived than its size %d" % (name, size))
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view):]
            finally:
                os.close(handle)
            if offset + len(data) == size:
                actual = self.hash_of(partial)
                if actual != sha256:
                    os.unlink(partial)
                    raise StepFailed("install", "%s: the file received hashes to %s, not the lock's %s; it was removed "
                                     "and nothing of it was used" % (name, actual, sha256))
                os.replace(partial, self.path(sha256))

    @staticmethod
    def hash_of(path):
        digest = new_sha256()
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            while True:
                chunk = os.read(handle, 1 << 20)
                if not chunk:
                    return digest.hexdigest()
                digest.update(chunk)
        finally:
            os.close(handle)

    def checked(self, slot, artifact):
        """The path of a complete file, checked by its hash right before use; a file that no longer matches is removed
        (the next apply ships it again) and the prepare fails naming it."""
        path = self.path(artifact["sha256"])
        if self.size_of(path) is None:
            raise StepFailed("install", "slot %s: %s (sha256:%s) is not on the host; the controller ships it at the "
                             "next apply" % (slot, artifact["name"], artifact["sha256"]))
        actual = self.hash_of(path)
        if actual != artifact["sha256"]:
            os.unlink(path)
            raise StepFailed("install", "slot %s: the host's copy of %s hashes to %s, not the lock's %s; it was removed "
                             "and is shipped again at the next apply" % (slot, artifact["name"], actual, artifact["sha256"]))
        return path


class ShippedUV:
    """The uv binary of a wheel the controller shipped: unpacked once, next to the wheel in the artifact store, as
    `<sha256>.uv` (the wheel's hash, checked first; the binary's own hash checked against the wheel's RECORD; written
    with an exclusive, no-follow open, mode 700, and renamed into place only when whole). A binary already there is
    used when it is the SSH user's own file that no one else may write."""

    LIMIT = 256 << 20

    def __init__(self, root):
        self.store = ArtifactStore(root)

    def binary(self, slot, artifact):
        self.store.ensure()
        path = self.store.path(artifact["sha256"]) + ".uv"
        try:
            status = os.lstat(path)
            if ArtifactStore.owned_file(status) and not status.st_mode & 0o022 and status.st_mode & 0o100:
                return path
            os.unlink(path)
        except FileNotFoundError:
            pass
        wheel = self.store.checked(slot, artifact)
        import zipfile
        try:
            with zipfile.ZipFile(wheel) as archive:
                members = [info for info in archive.infolist() if info.filename.endswith(".data/scripts/uv")
                           and info.filename.count("/") == 2 and info.filename.startswith("uv-")]
                records = [info for info in archive.infolist() if info.filename.endswith(".dist-info/RECORD")]
                if len(members) != 1 or len(records) != 1 or members[0].file_size > self.LIMIT:
                    raise StepFailed("install", "%s holds no single uv binary; ship a uv wheel from PyPI" % artifact["name"])
                record = archive.read(records[0]).decode("utf-8", "replace")
                data = archive.read(members[0])
        except (OSError, zipfile.BadZipFile) as error:
            raise StepFailed("install", "%s: cannot unpack uv: %s" % (artifact["name"], error))
        expected = None
        for line in record.splitlines():
            parts = line.rsplit(",", 2)
            if len(parts) == 3 and parts[0] == members[0].filename and parts[1].startswith("sha256="):
                expected = parts[1][len("sha256="):]
        digest = new_sha256()
        digest.update(data)
        actual = binascii.b2a_base64(digest.digest()).decode().strip().rstrip("=").replace("+", "-").replace("/", "_")
        if actual != expected:
            raise StepFailed("install", "%s: its uv binary does not match the wheel's RECORD; nothing of it was used" %
                             artifact["name"])
        temporary = "%s.%d" % (path, os.getpid())
        if os.path.lexists(temporary):
            os.unlink(temporary)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o700)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            os.fchmod(handle, 0o700)
        finally:
            os.close(handle)
        os.replace(temporary, path)
        return path
