"""Bytecode for a new build: compiled at install time, and taken from the running builds for every file they share
with it, so a release does not compile its whole stack again (nor on first start, inside the health check's window)."""
import os
import sys

from agent_system import run_command, write_atomically


# A venv with more Python files than this is compiled by a worker process per core.
COMPILE_IN_WORKERS_FROM = 300


def site_packages(venv):
    """The site-packages folder of a venv of this interpreter's version."""
    return BytecodeFormat.own().site_packages(venv)


class BytecodeFormat(object):
    """What an interpreter's bytecode files are: the magic number that starts them, the tag in their names
    (`cpython-311`) and its version's site-packages folder in a venv. This interpreter's (`own`), or another's, asked
    once (`of`), which then compiles for itself (`python`)."""

    QUERY = ("import sys, importlib.util; sys.stdout.write('%s %s %d.%d' % (importlib.util.MAGIC_NUMBER.hex(), "
             "sys.implementation.cache_tag, sys.version_info[0], sys.version_info[1]))")

    def __init__(self, magic, tag, version, python=None):
        self.magic, self.tag, self.version, self.python = magic, tag, version, python

    @classmethod
    def own(cls):
        from importlib._bootstrap_external import MAGIC_NUMBER  # what py_compile itself uses
        return cls(MAGIC_NUMBER, sys.implementation.cache_tag, "%d.%d" % sys.version_info[:2])

    @classmethod
    def of(cls, python):
        """The format of the interpreter `python`, or None when it does not answer as a CPython 3 does."""
        try:
            code, output = run_command([python, "-I", "-c", cls.QUERY], 60)
            magic, tag, version = output.split()
            if code != 0 or not tag or len(magic) != 8:
                return None
            return cls(bytes.fromhex(magic), tag, version, python)
        except (OSError, ValueError):
            return None

    def site_packages(self, venv):
        return os.path.join(venv, "lib", "python" + self.version, "site-packages")

    def cache_path(self, source):
        """Where the interpreter looks for the bytecode of `source`, as `importlib.util.cache_from_source` says."""
        head, tail = os.path.split(source)
        base, dot, rest = tail.rpartition(".")
        return os.path.join(head, "__pycache__", (base if base else rest) + dot + self.tag + ".pyc")


def pyc_header(status, form=None):
    """The 16 bytes that start the bytecode of a source file with this `os.stat`, as py_compile writes them: the
    interpreter's magic number, flags 0 (checked by timestamp, PEP 552), the source's mtime and size."""
    return ((form or BytecodeFormat.own()).magic + (0).to_bytes(4, "little")
            + (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (status.st_size & 0xFFFFFFFF).to_bytes(4, "little"))


def compile_source(path):
    """Writes the bytecode of the Python file `path` where the interpreter looks for it, byte for byte as
    `py_compile.compile` does, without importing py_compile (traceback, enum, re: ~8 ms). Returns False, writing
    nothing, for a file that does not compile."""
    from importlib._bootstrap_external import cache_from_source
    import marshal
    with open(path, "rb") as handle:
        source = handle.read()
        status = os.fstat(handle.fileno())
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except Exception:  # py_compile reports any failure to compile (SyntaxError, ValueError, ...); compileall skips it
        return False
    write_atomically(cache_from_source(path), pyc_header(status) + marshal.dumps(code))
    return True


def reuse_bytecode(path, earlier, form=None):
    """Gives the Python file `path` the bytecode compiled for `earlier`, another build's file, when both hold the same
    bytes (uv links installed files from its cache, so most often they are one file) and that bytecode is valid for
    `earlier` as the interpreter (whose bytecode `form` describes: this one's by default) checks it. A hard link when
    the headers agree, else a copy with `path`'s header; the interpreter sets the code's file name from where it loads
    it. Returns whether it did."""
    form = form or BytecodeFormat.own()
    try:
        mine, theirs = os.stat(path), os.stat(earlier)
        if mine.st_size != theirs.st_size:
            return False
        compiled = form.cache_path(earlier)
        with open(compiled, "rb") as handle:
            valid = pyc_header(theirs, form)
            if handle.read(16) != valid:
                return False
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino) and not same_bytes(path, earlier):
                return False
            target = form.cache_path(path)
            header = pyc_header(mine, form)
            if header == valid:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                try:
                    os.link(compiled, target)
                    return True
                except OSError:
                    pass
            write_atomically(target, header + handle.read())
        return True
    except OSError:
        return False


def same_bytes(first, second):
    """Whether two files hold the same bytes."""
    with open(first, "rb") as one, open(second, "rb") as other:
        while True:
            a, b = one.read(1 << 16), other.read(1 << 16)
            if a != b:
                return False
            if not a:
                return True


def compile_bytecode(venv, earlier=(), form=None):
    """Compiles the venv's packages as uv's --compile-bytecode and pip do (a file that does not compile is left
    to compile at import, as they leave it), for the interpreter whose bytecode `form` describes (this one's by
    default).

    A file that an `earlier` venv (the builds the slots run now) has with the same bytes keeps the bytecode
    compiled there: a release changes a pin or two, and compiling the whole stack again was most of a realistic
    service's prepare. The rest is compiled here, one file after another, or with compileall's worker processes
    when there are many (whose import, ~8 ms, is then small beside the work; it skips what was taken). For
    another interpreter, that interpreter's compileall does it (it too skips what was taken)."""
    form = form or BytecodeFormat.own()
    site = form.site_packages(venv)
    sources = [os.path.join(folder, name) for folder, _, names in os.walk(site) for name in names
               if name.endswith(".py")]
    sites = [form.site_packages(other) for other in earlier]
    left = [source for source in sources
            if not any(reuse_bytecode(source, other + source[len(site):], form) for other in sites)]
    many = len(left) > COMPILE_IN_WORKERS_FROM
    if left and form.python:
        run_command([form.python, "-I", "-m", "compileall", "-q"] + (["-j", "0"] if many else []) + [site], 3600)
    elif many:
        import compileall
        compileall.compile_dir(site, maxlevels=100, quiet=2, workers=0)
    else:
        for source in left:
            compile_source(source)
    return len(sources) - len(left), len(left)
