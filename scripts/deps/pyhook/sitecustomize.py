"""Records where every imported Python module comes from, for
scripts/check-deps.sh.

scripts/test.sh puts this folder first on PYTHONPATH and sets
COMFYD_DEPS_PYLOG to a folder; every Python process of the test suites
(Debian's interpreter, the suites' venvs, the servers they start) then
appends one line per module it imports to COMFYD_DEPS_PYLOG/<pid>.log:
"<origin file>\t<interpreter binary>". Without COMFYD_DEPS_PYLOG it does
nothing. Afterwards it runs the sitecustomize it shadows (Debian ships one).
"""
import os
import sys


def _install(log_dir):
    import importlib.abc

    path = os.path.join(log_dir, "%d.log" % os.getpid())
    # The binary that runs, not sys.executable: Python derives that from
    # argv[0], so a process started as execl("/usr/bin/python3", "python3")
    # reports whatever python3 comes first on PATH (a pyenv shim, say).
    try:
        exe = os.path.realpath("/proc/self/exe")
    except OSError:
        exe = sys.executable or ""

    class _Recorder(importlib.abc.MetaPathFinder):
        """Asks the finders after it, records the origin of what they find."""

        def find_spec(self, name, path_=None, target=None):
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path_, target)
                if spec is not None:
                    origin = spec.origin if spec.has_location else None
                    if origin:
                        try:
                            # O_APPEND: lines of one write never interleave.
                            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                            try:
                                os.write(fd, ("%s\t%s\n" % (origin, exe)).encode("utf-8", "surrogateescape"))
                            finally:
                                os.close(fd)
                        except OSError:
                            pass
                    return spec
            return None

    # Modules imported before this file ran are not recorded: the
    # interpreter's start-up modules come with it (its own package is checked
    # through sys.executable), and modules that .pth files of whatever else
    # is installed happen to load (setuptools' _distutils_hack) are not
    # needed by the tests.
    sys.meta_path.insert(0, _Recorder())


def _chain():
    """Runs the next sitecustomize on sys.path, the one this file shadows."""
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        cand = os.path.join(entry or ".", "sitecustomize.py")
        if os.path.dirname(os.path.abspath(cand)) == here or not os.path.isfile(cand):
            continue
        with open(cand, "rb") as f:
            code = compile(f.read(), cand, "exec")
        exec(code, {"__name__": "sitecustomize", "__file__": cand})
        return


_log_dir = os.environ.get("COMFYD_DEPS_PYLOG")
if _log_dir and os.path.isdir(_log_dir):
    _install(_log_dir)
try:
    _chain()
except Exception:  # the shadowed file must not break the interpreter
    pass
