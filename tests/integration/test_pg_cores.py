"""Several cores on one PostgreSQL database (run by tests/postgres/run.sh,
skipped otherwise): sessions, turns and events shared by two cores and two
bridges, and a core killed in the middle of a turn (docs/scale-out.md)."""

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest
from comfyd.v1 import session_pb2 as spb

from conftest import pg_store_for
from helpers import ECHO_PREFIX, GUARD_S, IDLE, Sub, added, get_session, kind, new_session, send, words
from test_attachments import Bridge

pytestmark = pytest.mark.skipif(
    not (os.environ.get("COMFYD_IT_PG") and os.environ.get("PG_DIR")),
    reason="PostgreSQL only: run through tests/postgres/run.sh",
)

PW = "prompt-writer"
# Short leases: a killed core's session is taken over within a few seconds
# (through the flag's environment twin).
LEASE_MS = 2000
LEASE_ENV = {"COMFYD_LEASE_TTL_MS": str(LEASE_MS)}


def two_cores(comfyd_factory, echo_delay_ms=0):
    a = comfyd_factory(start=False, echo_delay_ms=echo_delay_ms, env=LEASE_ENV)
    uri = pg_store_for(a.data)
    b = comfyd_factory(start=False, echo_delay_ms=echo_delay_ms, extra=["--store", uri], env=LEASE_ENV)
    a.start()
    b.start()
    return a, b


def stop_bridge(br):
    rc = br.stop()
    with open(os.path.join(br.dir, "bridge.log"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    # pytest shows it only when the test fails.
    sys.stderr.write("---- comfyd-bridge log (%s) ----\n%s" % (br.dir, log[-8000:]))
    assert rc == 0, "comfyd-bridge exit code %s on SIGTERM:\n%s" % (rc, log[-4000:])


async def ws_open(br, sid):
    """A socket on the bridge, joined to sid; returns it after sync_state."""
    import websockets

    url = "ws://127.0.0.1:%d/comfy/session/ws?token=%s" % (br.port, br.token)
    ws = await websockets.connect(url, max_size=None)
    await ws.send(json.dumps({"event": "join", "request_id": "j", "data": {"session_id": sid}}))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), GUARD_S))
        assert msg.get("event") != "error", msg
        if msg.get("event") == "sync_state":
            return ws


async def ws_until(ws, pred, got):
    end = time.monotonic() + GUARD_S
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("not seen within %.0f s; got %s" % (GUARD_S, [m.get("event") for m in got][-30:]))
        msg = json.loads(await asyncio.wait_for(ws.recv(), left))
        got.append(msg)
        if pred(msg):
            return msg


def is_reply_to(turn_id):
    def pred(m):
        d = m.get("data", {})
        msg = d.get("message", {})
        return (m.get("event") == "message_added" and msg.get("role") == "assistant"
                and int(msg.get("turn_id", 0)) == turn_id)
    return pred


def test_two_cores_two_bridges_share_a_session_and_its_events(comfyd_factory):
    a, b = two_cores(comfyd_factory, echo_delay_ms=5)
    sa, sb = a.sessions(), b.sessions()
    # Made through core A; core B has never seen it.
    s = new_session(sa, skills=[PW], title="shared")
    assert get_session(sb, s.id).session.title == "shared"
    listed = sb.ListSessions(spb.ListSessionsRequest(page_size=50), timeout=10).sessions
    assert s.id in [x.id for x in listed]

    # A subscriber on each core; a message through core B.
    sub_a, sub_b = Sub(sa, s.id), Sub(sb, s.id)
    assert kind(sub_a.next()) == "sync_state" and kind(sub_b.next()) == "sync_state"
    text = "from core B " + words(6)
    r = send(sb, s.id, text)
    turn = r.message.id
    for sub in (sub_a, sub_b):
        evs = sub.until(lambda e: kind(e) == "message_added" and e.message_added.message.role == spb.ROLE_ASSISTANT
                        and e.message_added.message.turn_id == turn)
        users = added(evs, spb.ROLE_USER)
        assert [m.id for m in users] == [turn], "the user message reached this core's subscriber"
        reply = added(evs, spb.ROLE_ASSISTANT)[-1]
        assert reply.content.startswith(ECHO_PREFIX % PW), reply.content
        # Streamed tokens too, on both cores, in order and whole.
        streamed = "".join(e.stream_delta.delta for e in evs if kind(e) == "stream_delta"
                           and e.stream_delta.turn_id == turn)
        assert streamed == reply.content
        seqs = [e.seq for e in sub.events]
        assert seqs == sorted(set(seqs)), "sequence numbers rise on each core"
        sub.until(lambda e: kind(e) == "status_update" and e.status_update.status == IDLE
                  and e.status_update.queued_turns == 0)
    sub_a.cancel()
    sub_b.cancel()
    # Both cores answer from the database.
    for stub in (sa, sb):
        hist = get_session(stub, s.id, history=True).history
        assert [m.content for m in hist if m.role == spb.ROLE_USER] == [text]

    # Two bridges, one on each core: a socket on bridge A sees what a
    # socket on bridge B sends, its reply streamed on core B.
    br_a, br_b = Bridge(a), Bridge(b)
    try:
        async def scenario():
            wa = await ws_open(br_a, s.id)
            wb = await ws_open(br_b, s.id)
            await wb.send(json.dumps({"event": "user_message", "request_id": "m",
                                      "data": {"session_id": s.id, "content": "through bridge B"}}))
            got_b = []
            ack = await ws_until(wb, lambda m: m.get("event") in ("ack", "error"), got_b)
            assert ack["event"] == "ack", ack
            tid = int(ack["data"]["message"]["id"])
            got_a = []
            await ws_until(wa, is_reply_to(tid), got_a)
            await ws_until(wb, is_reply_to(tid), got_b)
            await wa.close()
            await wb.close()
            return got_a

        got_a = asyncio.run(scenario())
        users = [m["data"]["message"]["content"] for m in got_a if m.get("event") == "message_added"
                 and m["data"]["message"]["role"] == "user"]
        assert users == ["through bridge B"], users
        assert any(m.get("event") == "stream_delta" for m in got_a), "tokens streamed to bridge A"
    finally:
        stop_bridge(br_a)
        stop_bridge(br_b)


def test_core_killed_mid_turn_another_takes_the_session_and_nothing_acknowledged_is_lost(comfyd_factory):
    a, b = two_cores(comfyd_factory)
    sa, sb = a.sessions(), b.sessions()
    # A slow turn: 200 words at 50 ms each, far longer than the test.
    s = new_session(sa, skills=[PW], token_delay_ms=50, title="takeover")
    sub_b = Sub(sb, s.id)
    sub_b.next()
    long_turn = send(sa, s.id, words(200)).message.id
    # Core A runs it: its tokens reach core B's subscriber.
    sub_b.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.turn_id == long_turn)
    # Acknowledged while A runs: one through B (waits for A's lease), one
    # through A (queued on A).
    via_b = send(sb, s.id, "queued through B").message.id
    via_a = send(sa, s.id, "queued through A").message.id
    assert get_session(sb, s.id).session.status == spb.SESSION_STATUS_WORKING

    a.kill9()
    killed = time.monotonic()
    # Core B marks the dead core's turn interrupted once its lease expired,
    # then runs both acknowledged turns; their replies stream on B.
    evs = sub_b.until(lambda e: kind(e) == "error" and e.error.turn_id == long_turn)
    assert time.monotonic() - killed >= LEASE_MS / 1000.0 * 0.5, "taken over before the lease expired"
    assert evs[-1].error.code == "interrupted"
    want = {via_b, via_a}
    done = set()
    while done != want:
        ev = sub_b.next()
        if kind(ev) == "message_added" and ev.message_added.message.role == spb.ROLE_ASSISTANT:
            assert ev.message_added.message.turn_id in want, ev
            done.add(ev.message_added.message.turn_id)
    sub_b.cancel()

    hist = {m.id: m for m in get_session(sb, s.id, history=True).history}
    assert hist[long_turn].state == spb.MESSAGE_STATE_INTERRUPTED
    for t in (via_b, via_a):
        assert hist[t].state == spb.MESSAGE_STATE_DONE, hist[t]
        replies = [m for m in hist.values() if m.role == spb.ROLE_ASSISTANT and m.turn_id == t]
        assert len(replies) == 1, "each acknowledged turn ran exactly once"
    # The session goes on through B; A comes back and serves it too.
    nxt = send(sb, s.id, "after the takeover").message.id
    a.start()
    sa = a.sessions()
    end = time.monotonic() + GUARD_S
    while get_session(sa, s.id).session.status != IDLE or nxt not in [
            m.turn_id for m in get_session(sa, s.id, history=True).history if m.role == spb.ROLE_ASSISTANT]:
        assert time.monotonic() < end, "the turn after the takeover did not finish"
        time.sleep(0.05)


def test_cancel_through_another_core_stops_the_turn_where_it_runs(comfyd_factory):
    a, b = two_cores(comfyd_factory)
    sa, sb = a.sessions(), b.sessions()
    s = new_session(sa, skills=[PW], token_delay_ms=50, title="cancel")
    sub_b = Sub(sb, s.id)
    sub_b.next()
    turn = send(sa, s.id, words(200)).message.id
    sub_b.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.turn_id == turn)
    # Core B runs nothing: its Cancel goes to the core running the turn.
    r = sb.Cancel(spb.CancelRequest(session_id=s.id), timeout=10)
    assert r.cancelled
    evs = sub_b.until(lambda e: kind(e) == "error" and e.error.turn_id == turn and e.error.code == "cancelled")
    sub_b.until(lambda e: kind(e) == "status_update" and e.status_update.status == IDLE)
    sub_b.cancel()
    hist = {m.id: m for m in get_session(sb, s.id, history=True).history}
    assert hist[turn].state == spb.MESSAGE_STATE_CANCELLED
    reply = [m for m in hist.values() if m.role == spb.ROLE_ASSISTANT and m.turn_id == turn]
    assert len(reply) == 1 and reply[0].state == spb.MESSAGE_STATE_CANCELLED
    assert len(deltas_of(evs, turn)) < 200, "the turn ran to its end"


def deltas_of(evs, turn):
    return [e for e in evs if kind(e) == "stream_delta" and e.stream_delta.turn_id == turn]


def bridge_on(cores, monkeypatch):
    """A bridge given several cores (--core repeated, in this order)."""
    real_popen = subprocess.Popen

    def popen(args, **kw):
        args = list(args)
        k = args.index("--core")
        args[k:k + 2] = [x for c in cores for x in ("--core", c.unix_target)]
        # How gRPC moves between the cores goes into the bridge's log
        # (printed when the test fails).
        kw["env"] = dict(os.environ, GRPC_VERBOSITY="debug", GRPC_TRACE="pick_first,subchannel")
        return real_popen(args, **kw)

    monkeypatch.setattr(subprocess, "Popen", popen)
    try:
        return Bridge(cores[0])
    finally:
        monkeypatch.setattr(subprocess, "Popen", real_popen)


def test_bridge_with_two_cores_moves_to_the_other_when_one_goes(comfyd_factory, monkeypatch):
    a = comfyd_factory(start=False, env=LEASE_ENV)
    uri = pg_store_for(a.data)
    b = comfyd_factory(start=False, extra=["--store", uri], env=LEASE_ENV)
    a.start()  # core B is not up yet: the bridge must use A, the first
    br = bridge_on([a, b], monkeypatch)
    s = new_session(a.sessions(), skills=[PW], title="failover")

    async def turn(content, last_seq=0):
        import websockets

        url = "ws://127.0.0.1:%d/comfy/session/ws?token=%s" % (br.port, br.token)
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"event": "join", "data": {"session_id": s.id, "last_seq": last_seq}}))
            await ws.send(json.dumps({"event": "user_message", "request_id": "m",
                                      "data": {"session_id": s.id, "content": content}}))
            got = []
            ack = await ws_until(ws, lambda m: m.get("event") in ("ack", "error") and m.get("request_id") == "m",
                                 got)
            assert ack["event"] == "ack", ack
            await ws_until(ws, is_reply_to(int(ack["data"]["message"]["id"])), got)
            return max([m.get("seq", 0) for m in got] + [0])

    try:
        seq = asyncio.run(turn("through the first core"))
        b.start()
        a.kill9()
        # The next socket (a client reconnecting after the 1012 close) is
        # served through core B, with the whole history.
        end = time.monotonic() + GUARD_S
        while True:
            try:
                asyncio.run(turn("through the second core", last_seq=seq))
                break
            except Exception as e:  # noqa: BLE001
                # Until gRPC has moved on: UNAVAILABLE, or the socket closed.
                import websockets

                if time.monotonic() > end or not (
                        "UNAVAILABLE" in str(e) or isinstance(e, (websockets.ConnectionClosed, OSError))):
                    raise
                time.sleep(0.2)
        hist = get_session(b.sessions(), s.id, history=True).history
        assert [m.content for m in hist if m.role == spb.ROLE_USER] == ["through the first core",
                                                                         "through the second core"]
    finally:
        stop_bridge(br)


def test_a_turn_sent_through_another_core_runs_next_on_the_lease_holder(comfyd_factory):
    """Core A runs a turn; a message through core B is stored and offered to
    core A (a control word through LISTEN/NOTIFY), which runs it right after,
    before a message A accepted later: turns run in the order they were
    accepted, whichever core took them, without B waiting for A's lease."""
    a, b = two_cores(comfyd_factory, echo_delay_ms=20)
    sa, sb = a.sessions(), b.sessions()
    s = new_session(sa, skills=[PW], title="offered")
    sub = Sub(sa, s.id)
    assert kind(sub.next()) == "sync_state"
    m1 = send(sa, s.id, "first " + words(40)).message.id
    sub.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.turn_id == m1)
    m2 = send(sb, s.id, "second " + words(4)).message.id
    # B offers it at once; A hears of it before the next message arrives.
    time.sleep(0.5)
    m3 = send(sa, s.id, "third " + words(4)).message.id
    assert m1 < m2 < m3
    replies = []

    def reply_seen(e):
        if kind(e) == "message_added" and e.message_added.message.role == spb.ROLE_ASSISTANT:
            replies.append(e.message_added.message.turn_id)
        return len(replies) == 3

    sub.until(reply_seen)
    assert replies == [m1, m2, m3], "turns ran in the order they were accepted: %s" % replies
    sub.cancel()
    # Core A ran the offered turn (B did not wait for the lease to run it).
    with open(a.log_path, "rb") as f:
        log_a = f.read().decode("utf-8", "replace")
    assert "turn %d offered by another core" % m2 in log_a, log_a[-3000:]
