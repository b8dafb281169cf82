"""The PostgreSQL store (run by tests/postgres/run.sh, skipped otherwise):
the server going away under a running core and coming back, and two cores
opening one database at once."""

import os
import subprocess
import threading
import time

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb

from conftest import pg_store_for
from helpers import GUARD_S, Sub, get_session, new_session, send, settle, words

pytestmark = pytest.mark.skipif(
    not (os.environ.get("COMFYD_IT_PG") and os.environ.get("PG_DIR")),
    reason="PostgreSQL only: run through tests/postgres/run.sh",
)


def pg_ctl(*args):
    """pg_ctl on the suite's cluster, as the user that owns it."""
    cmd = [os.path.join(os.environ["PG_BIN"], "pg_ctl"), "-D", os.path.join(os.environ["PG_DIR"], "data"), "-w"]
    cmd += list(args)
    if os.getuid() == 0:
        cmd = ["runuser", "-u", os.environ["PG_OWNER"], "--"] + cmd
    r = subprocess.run(cmd, capture_output=True, timeout=300)
    if r.returncode:
        with open(os.path.join(os.environ["PG_DIR"], "server.log"), "rb") as f:
            log = f.read().decode("utf-8", "replace")
        raise AssertionError("pg_ctl %s: exit %d: %s\n---- server.log ----\n%s" %
                             (" ".join(args), r.returncode, r.stderr.decode("utf-8", "replace"), log[-6000:]))


def pg_stop():
    # The shutdown checkpoint writes out what the suite's earlier tests
    # left dirty (a database each): on a loaded machine that takes more
    # than pg_ctl's default minute.
    pg_ctl("-t", "240", "-m", "fast", "stop")


def pg_start():
    d = os.environ["PG_DIR"]
    opts = "-p %s -k %s -c listen_addresses= -c max_connections=200" % (os.environ["PG_PORT"], d)
    pg_ctl("-t", "60", "-l", os.path.join(d, "server.log"), "-o", opts, "start")


def psql(uri, sql):
    r = subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", uri, "-c", sql], check=True, capture_output=True)
    return r.stdout.decode().strip()


def history_ids(stub, sid):
    return [m.id for m in get_session(stub, sid, history=True).history]


def test_server_away_gives_unavailable_and_recovery_keeps_every_acknowledged_message(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=["prompt-writer"], title="pg")
    sub = Sub(stub, s.id)
    sub.next()
    acked = [send(stub, s.id, "before %d %s" % (i, words(5))).message.id for i in range(3)]
    settle(stub, s.id, sub)
    before = history_ids(stub, s.id)
    assert set(acked) <= set(before)

    pg_stop()
    try:
        # Writes fail at once with UNAVAILABLE and say why; the process
        # stays up.
        for call in (
            lambda: new_session(stub, title="while away"),
            lambda: send(stub, s.id, "while away", client_id="away-1"),
        ):
            with pytest.raises(grpc.RpcError) as e:
                call()
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE, e.value
            assert "unreachable" in e.value.details(), e.value.details()
        assert comfyd.alive()
    finally:
        pg_start()

    # Recovery: the next calls reconnect; the same client id is accepted
    # now (nothing was stored while the server was away).
    end = time.monotonic() + GUARD_S
    while True:
        try:
            r = send(stub, s.id, "after", client_id="away-1")
            break
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAVAILABLE, e
            assert time.monotonic() < end, "no recovery after the server came back"
            time.sleep(0.2)
    acked.append(r.message.id)
    settle(stub, s.id, sub)
    sub.cancel()
    s2 = new_session(stub, title="after")

    # Everything acknowledged is in the database: a restarted core loads
    # it from there.
    comfyd.restart()
    stub = comfyd.sessions()
    after = history_ids(stub, s.id)
    assert set(acked) <= set(after), "acknowledged messages lost: %s" % (set(acked) - set(after))
    assert after[: len(before)] == before
    assert get_session(stub, s2.id).session.title == "after"
    assert b"the database is unreachable" in comfyd.all_logs() or b"PostgreSQL" in comfyd.all_logs()


def test_two_cores_starting_at_once_both_serve_and_the_schema_is_made_once(comfyd_factory):
    first = comfyd_factory(start=False)
    uri = pg_store_for(first.data)
    cores = [first, comfyd_factory(start=False, extra=["--store", uri])]
    failed = []

    def start(c):
        try:
            c.start()
        except BaseException:  # pytest.fail: exited before ready
            failed.append(c)

    threads = [threading.Thread(target=start, args=(c,)) for c in cores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Several cores per database (docs/scale-out.md): both serve it, and
    # the migrations ran exactly once.
    assert not failed, "\n".join(c.log_tail() for c in failed)
    assert psql(uri, "SELECT version || '/' || count(*) FROM comfyd_schema GROUP BY version") == "8/1"
    assert sum(b"schema version 0 -> 8" in c.log_bytes() for c in cores) == 1

    # A session made through one is served by the other.
    s = new_session(cores[0].sessions(), title="shared")
    send(cores[0].sessions(), s.id, "stored by the first core")
    got = get_session(cores[1].sessions(), s.id, history=True)
    assert got.session.title == "shared"
    assert any(m.content == "stored by the first core" for m in got.history)
