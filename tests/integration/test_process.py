"""The comfyd process: command line, environment twins, one instance per
data directory, graceful shutdown."""

import os
import re
import signal
import socket
import subprocess
import time

import grpc
from comfyd.v1 import session_pb2 as spb
from comfyd.v1 import session_pb2_grpc as sgrpc

from conftest import comfyd_bin
from helpers import Sub, get_session, new_session, send

FLAGS = {
    "--data": "COMFYD_DATA",
    "--listen": "COMFYD_LISTEN",
    "--skills": "COMFYD_SKILLS",
    "--log-level": "COMFYD_LOG_LEVEL",
    "--echo-delay-ms": "COMFYD_ECHO_DELAY_MS",
    "--store": "COMFYD_STORE",
    "--lease-ttl-ms": "COMFYD_LEASE_TTL_MS",
    "--advertise": "COMFYD_ADVERTISE",
}


def run(args, env=None, guard=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([comfyd_bin()] + args, capture_output=True, timeout=guard, env=e)


def test_help_lists_every_flag_with_its_environment_twin():
    r = run(["--help"])
    assert r.returncode == 0, r
    out = (r.stdout + r.stderr).decode()
    for flag, env in FLAGS.items():
        assert flag in out, "--help does not mention %s" % flag
        assert env in out, "--help does not mention %s" % env


def test_bad_command_lines_exit_non_zero_with_a_message(tmp_path):
    d = str(tmp_path)
    base = ["--data", d, "--listen", "unix:" + os.path.join(d, "s.sock")]
    for args, needle in (
        (["--no-such-flag"], r"no-such-flag"),
        (base + ["--echo-delay-ms", "abc"], r"echo-delay-ms"),
        (base + ["--echo-delay-ms", "-5"], r"echo-delay-ms"),
        (base + ["--log-level", "loud"], r"log-level"),
        (base + ["--listen", "nonsense-address"], r"nonsense-address|listen"),
        (["--data"], r"data"),
        (base + ["--store", "mysql://db"], r"store"),
        (base + ["--store", "sqlite:"], r"store"),
        # Session leases are for several cores on PostgreSQL; SQLite is one core.
        (base + ["--lease-ttl-ms", "5000"], r"PostgreSQL.*SQLite store serves one core"),
        (base + ["--store", "sqlite:" + os.path.join(d, "x.db"), "--lease-ttl-ms", "5000"],
         r"SQLite store serves one core"),
        (base + ["--store", "postgresql://u@/db", "--lease-ttl-ms", "10"], r"lease-ttl-ms"),
        # The address other cores forward graph commands to: PostgreSQL only, and an address.
        (base + ["--advertise", "unix:/tmp/x.sock"], r"advertise.*PostgreSQL"),
        (base + ["--store", "postgresql://u@/db", "--advertise", "no-port"], r"advertise"),
        (base + ["--store", "postgresql://u@/db", "--advertise", "h:1 2"], r"advertise"),
        # A URI that names no reachable server: a clear error, not a hang.
        (base + ["--store", "postgresql://u@/db?host=" + d + "&port=1&connect_timeout=2"],
         r"PostgreSQL|store"),
    ):
        r = run(args)
        msg = (r.stdout + r.stderr).decode()
        assert r.returncode != 0, "comfyd %s exited 0: %s" % (args, msg)
        assert re.search(needle, msg), "comfyd %s: message %r does not mention %s" % (args, msg, needle)


def test_environment_twins_configure_the_service(comfyd_factory):
    c = comfyd_factory(start=False)
    env = {
        "COMFYD_DATA": c.data,
        "COMFYD_LISTEN": c.unix_target,
        "COMFYD_LOG_LEVEL": "debug",
        "COMFYD_ECHO_DELAY_MS": "0",
    }
    # No flags at all: everything from the environment.
    c.argv = lambda: [comfyd_bin()]
    c.env = env
    c.start()
    stub = c.sessions()
    s = new_session(stub, title="env")
    assert get_session(stub, s.id).session.title == "env"
    assert os.path.exists(os.path.join(c.data, "comfyd.db")), os.listdir(c.data)
    # An unknown method is logged at debug level only.
    try:
        c.channel().unary_unary("/comfyd.v1.SessionService/Nope")(b"", timeout=5)
    except grpc.RpcError:
        pass
    assert b"DEBUG" in c.log_bytes(), "COMFYD_LOG_LEVEL=debug had no effect:\n%s" % c.log_tail()


def test_store_flag_and_its_twin_choose_the_sqlite_file(comfyd_factory):
    c = comfyd_factory(start=False)
    path = os.path.join(c.root, "elsewhere.db")
    c.extra = ["--store", "sqlite:" + path]
    c.start()
    s = new_session(c.sessions(), title="flag")
    assert os.path.exists(path), os.listdir(c.root)
    assert not os.path.exists(os.path.join(c.data, "comfyd.db"))
    c.stop()
    # The twin, with the flag gone: the same file, the same session.
    c.extra = []
    c.env = {"COMFYD_STORE": "sqlite:" + path}
    c.start()
    assert get_session(c.sessions(), s.id).session.title == "flag"


def test_one_sqlite_store_serves_one_core(comfyd_factory):
    # Two data directories, one SQLite file: the second core is refused with
    # the reason (several cores share a PostgreSQL database instead).
    first = comfyd_factory(start=False)
    path = os.path.join(first.root, "shared.db")
    first.extra = ["--store", "sqlite:" + path]
    first.start()
    other = comfyd_factory(start=False, extra=["--store", "sqlite:" + path])
    r = subprocess.run(other.argv(), capture_output=True, timeout=30)
    msg = (r.stdout + r.stderr).decode()
    assert r.returncode != 0, "a second core on one SQLite file exited 0: %s" % msg
    assert re.search(r"SQLite store .*in use by another comfyd.*serves one core.*postgres", msg), msg
    assert first.alive()
    s = new_session(first.sessions(), title="one core")
    assert get_session(first.sessions(), s.id).session.title == "one core"


def test_ready_line_is_printed_whatever_the_log_level(comfyd_factory):
    # Launchers wait for "comfyd: ready"; a quieter log must not hide it.
    c = comfyd_factory(start=False, extra=["--log-level", "warn"])
    log = open(os.path.join(c.root, "warn.log"), "wb")
    proc = subprocess.Popen(c.argv(), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        # Serving is judged by a call, not by the log.
        stub = sgrpc.SessionServiceStub(grpc.insecure_channel(c.unix_target))
        stub.ListSessions(spb.ListSessionsRequest(), timeout=30, wait_for_ready=True)
        # The line may trail the first answered call by a moment.
        for _ in range(40):
            with open(os.path.join(c.root, "warn.log"), "rb") as f:
                out = f.read()
            if b"comfyd: ready" in out:
                break
            time.sleep(0.05)
        assert b"comfyd: ready" in out, "serving, but no ready line at --log-level warn: %r" % out
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_second_instance_on_the_same_data_dir_fails_clearly(comfyd):
    other = os.path.join(comfyd.root, "other.sock")
    r = run(["--data", comfyd.data, "--listen", "unix:" + other, "--listen", "127.0.0.1:0"])
    msg = (r.stdout + r.stderr).decode()
    assert r.returncode != 0, "second instance exited 0: %s" % msg
    assert re.search(r"data directory.*in use", msg, re.I), "message: %r" % msg
    # The first one still owns its socket and serves.
    assert comfyd.alive()
    stub = comfyd.sessions()
    s = new_session(stub)
    assert get_session(stub, s.id).session.id == s.id


def test_listen_on_a_busy_port_fails(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = run(["--data", str(tmp_path), "--listen", "127.0.0.1:%d" % port])
    msg = (r.stdout + r.stderr).decode()
    assert r.returncode != 0, "bound a busy port: %s" % msg
    assert str(port) in msg, msg


def test_sigterm_ends_streams_with_unavailable_and_exits_zero(comfyd_factory):
    c = comfyd_factory(echo_delay_ms=50)
    stub = c.sessions()
    s = new_session(stub, skills=["prompt-writer"])
    idle = new_session(stub)
    # Our own channel: stop() would close the fixture's before the signal.
    ch = grpc.insecure_channel(c.unix_target, options=[("grpc.use_local_subchannel_pool", 1)])
    own = sgrpc.SessionServiceStub(ch)
    busy_sub = Sub(own, s.id)
    busy_sub.next()
    idle_sub = Sub(own, idle.id)
    idle_sub.next()
    send(own, s.id, " ".join(["word"] * 200))
    busy_sub.until(lambda e: e.WhichOneof("kind") == "stream_delta")
    c.proc.send_signal(signal.SIGTERM)
    rc = c.proc.wait(timeout=30)
    assert rc == 0, "exit code %s:\n%s" % (rc, c.log_tail())
    busy_sub.wait_end(guard=10)
    idle_sub.wait_end(guard=10)
    assert busy_sub.code == grpc.StatusCode.UNAVAILABLE, (busy_sub.code, busy_sub.details)
    assert idle_sub.code == grpc.StatusCode.UNAVAILABLE, (idle_sub.code, idle_sub.details)
    ch.close()
    # The turn cut short by the stop is recorded as interrupted.
    c.start()
    hist = get_session(c.sessions(), s.id, history=True).history
    user = [m for m in hist if m.role == spb.ROLE_USER][0]
    assert user.state == spb.MESSAGE_STATE_INTERRUPTED and user.error, user


def test_sigint_also_stops_cleanly(comfyd):
    rc = comfyd.stop(signal.SIGINT)
    assert rc == 0, comfyd.log_tail()


def test_tcp_and_unix_listeners_serve_the_same_sessions(comfyd):
    s = new_session(comfyd.sessions(tcp=True), title="over tcp")
    assert get_session(comfyd.sessions(), s.id).session.title == "over tcp"


def test_unknown_method_is_answered_at_once_on_tcp(comfyd):
    ch = comfyd.channel(tcp=True)
    call = ch.unary_unary("/comfyd.v1.SessionService/Nope", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        call(b"", timeout=5)
        raise AssertionError("an unknown method succeeded")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.UNIMPLEMENTED, e
