"""Fixtures for the comfyd integration tests.

The tests drive the real `comfyd` binary over gRPC with Debian's grpcio.
Python stubs are generated from proto/ at start-up (protoc + the
grpc_python_plugin), so the tests always speak the current contract.

Environment:
  COMFYD_BIN          path of the comfyd binary (run.sh sets it from BUILD_DIR)
  COMFYD_IT_STUBS     where to generate the stubs (default: a temp dir)
  COMFYD_IT_WRAPPER   optional command prefix for comfyd, e.g. "valgrind -q"
  COMFYD_IT_PG        a PostgreSQL URI with "{db}" for the database name
                      (tests/postgres/run.sh sets it): each data directory
                      then gets a database of its own, created here, and
                      comfyd runs with --store on it
"""

import atexit
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PROTO_DIR = os.path.join(REPO, "proto")
BUILTIN_SKILLS = os.path.join(REPO, "skills")

# Hang guards (not performance limits): how long to wait for something that
# should happen "soon" before declaring the test failed.
START_GUARD_S = float(os.environ.get("COMFYD_IT_START_GUARD_S", "30"))
STOP_GUARD_S = 30.0


def _generate_stubs():
    out = os.environ.get("COMFYD_IT_STUBS")
    if not out:
        out = tempfile.mkdtemp(prefix="comfyd-it-stubs-")
        atexit.register(shutil.rmtree, out, True)
    os.makedirs(out, exist_ok=True)
    plugin = shutil.which("grpc_python_plugin")
    if plugin is None:
        raise RuntimeError("grpc_python_plugin not found (Debian package protobuf-compiler-grpc)")
    protos = sorted(
        os.path.join("comfyd", "v1", f)
        for f in os.listdir(os.path.join(PROTO_DIR, "comfyd", "v1"))
        if f.endswith(".proto")
    )
    cmd = [
        "protoc",
        "-I", PROTO_DIR,
        "-I", "/usr/include",
        "--python_out=" + out,
        "--grpc_python_out=" + out,
        "--plugin=protoc-gen-grpc_python=" + plugin,
    ] + protos
    subprocess.run(cmd, check=True, cwd=PROTO_DIR)
    sys.path.insert(0, out)


_generate_stubs()

import grpc  # noqa: E402
from comfyd.v1 import session_pb2 as spb  # noqa: E402
from comfyd.v1 import session_pb2_grpc as sgrpc  # noqa: E402
from comfyd.v1 import skill_pb2 as kpb  # noqa: E402
from comfyd.v1 import skill_pb2_grpc as kgrpc  # noqa: E402


def comfyd_bin():
    path = os.environ.get("COMFYD_BIN") or os.path.join(REPO, "build", "core", "comfyd")
    if not os.access(path, os.X_OK):
        pytest.fail("comfyd binary not found at %s (set COMFYD_BIN)" % path)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def short_tmpdir(prefix):
    # Unix socket paths are limited to 107 bytes: keep them short.
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


_pg_dbs = {}


def pg_store_for(data):
    """The --store URI for a data directory under COMFYD_IT_PG, creating
    its database on first use; None when the suite runs on SQLite."""
    fmt = os.environ.get("COMFYD_IT_PG")
    if not fmt:
        return None
    if data not in _pg_dbs:
        name = "it_%d_%d" % (os.getpid(), len(_pg_dbs) + 1)
        subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", fmt.format(db="postgres"),
                        "-c", "CREATE DATABASE %s" % name], check=True, capture_output=True)
        _pg_dbs[data] = fmt.format(db=name)
    return _pg_dbs[data]


class Comfyd:
    """One comfyd process on a data dir, a unix socket and a TCP port.

    restart() keeps the data dir and the addresses."""

    def __init__(self, data=None, echo_delay_ms=0, skills=None, extra=None, env=None):
        self.root = short_tmpdir("cfd-")
        self.data = data or os.path.join(self.root, "data")
        os.makedirs(self.data, exist_ok=True)
        self.sock = os.path.join(self.root, "c.sock")
        self.port = free_port()
        self.echo_delay_ms = echo_delay_ms
        self.skills = skills
        self.extra = list(extra or [])
        self.env = env
        self.proc = None
        self.log_path = None
        self.starts = 0
        self._channels = []

    @property
    def unix_target(self):
        return "unix:" + self.sock

    @property
    def tcp_target(self):
        return "127.0.0.1:%d" % self.port

    def argv(self):
        args = [
            comfyd_bin(),
            "--data", self.data,
            "--listen", self.unix_target,
            "--listen", self.tcp_target,
            "--log-level", "debug",
            "--echo-delay-ms", str(self.echo_delay_ms),
        ]
        if self.skills:
            args += ["--skills", self.skills]
        store = pg_store_for(self.data)
        # A test that chooses the store itself (flag or twin) keeps it.
        if store and "--store" not in self.extra and "COMFYD_STORE" not in (self.env or {}):
            args += ["--store", store]
        wrapper = shlex.split(os.environ.get("COMFYD_IT_WRAPPER", ""))
        return wrapper + args + self.extra

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        self.starts += 1
        self.log_path = os.path.join(self.root, "comfyd.%d.log" % self.starts)
        logf = open(self.log_path, "wb")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT, env=env)
        logf.close()
        deadline = time.monotonic() + START_GUARD_S
        while time.monotonic() < deadline:
            if b"comfyd: ready" in self.log_bytes():
                return self
            if self.proc.poll() is not None:
                pytest.fail("comfyd exited with %s before ready:\n%s" % (self.proc.returncode, self.log_tail()))
            time.sleep(0.02)
        pytest.fail("comfyd not ready after %.0f s:\n%s" % (START_GUARD_S, self.log_tail()))

    def log_bytes(self):
        """Everything the current process wrote (stdout and stderr)."""
        if not self.log_path:
            return b""
        with open(self.log_path, "rb") as f:
            return f.read()

    def all_logs(self):
        out = b""
        for i in range(1, self.starts + 1):
            p = os.path.join(self.root, "comfyd.%d.log" % i)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out += f.read()
        return out

    def log_tail(self, n=60):
        return "\n".join(self.log_bytes().decode("utf-8", "replace").splitlines()[-n:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close_channels(self):
        for ch in self._channels:
            ch.close()
        self._channels = []

    def stop(self, sig=signal.SIGTERM):
        """Signals the process and returns its exit code."""
        self.close_channels()
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_GUARD_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("comfyd did not exit within %.0f s of signal %d:\n%s" % (STOP_GUARD_S, sig, self.log_tail()))

    def kill9(self):
        self.close_channels()
        self.proc.kill()
        self.proc.wait()

    def restart(self):
        rc = self.stop()
        assert rc == 0, "comfyd exit code %s on SIGTERM:\n%s" % (rc, self.log_tail())
        return self.start()

    def channel(self, tcp=False, options=None):
        # A local subchannel pool: a channel never inherits a broken
        # connection from another channel to the same address (restarts).
        opts = [("grpc.use_local_subchannel_pool", 1)] + list(options or [])
        ch = grpc.insecure_channel(self.tcp_target if tcp else self.unix_target, options=opts)
        self._channels.append(ch)
        return ch

    def sessions(self, **kw):
        return sgrpc.SessionServiceStub(self.channel(**kw))

    def skills_stub(self, **kw):
        return kgrpc.SkillServiceStub(self.channel(**kw))

    def cleanup(self):
        self.close_channels()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def comfyd_factory(request):
    """Makes Comfyd objects; each started one must exit 0 on SIGTERM at the end."""
    made = []

    def make(start=True, **kw):
        c = Comfyd(**kw)
        made.append(c)
        if start:
            c.start()
        return c

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    try:
        for c in made:
            if c.alive():
                rc = c.stop()
                assert rc == 0, "comfyd exit code %s on SIGTERM:\n%s" % (rc, c.log_tail())
    finally:
        for c in made:
            if failed:
                sys.stderr.write("---- comfyd log (%s) ----\n%s\n" % (c.root, c.log_tail(80)))
            c.cleanup()


@pytest.fixture
def comfyd(comfyd_factory):
    """A fresh comfyd with an echo delay of 0 ms by default."""
    return comfyd_factory()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
