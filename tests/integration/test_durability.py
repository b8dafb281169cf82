"""State survives restarts (clean and kill -9); sequence numbers are never
reused; the API key stays write-only across a restart."""

import time

from comfyd.v1 import session_pb2 as spb

from helpers import (
    GUARD_S,
    IDLE,
    WORKING,
    Sub,
    get_session,
    kind,
    send,
    settle,
    words,
)

SECRET = "sk-restart-5d4c3b2a19f8e7d6c5b4a392"


def wait_not_working(stub, sid, guard=GUARD_S):
    end = time.monotonic() + guard
    while time.monotonic() < end:
        s = get_session(stub, sid).session
        if s.status != WORKING and s.queued_turns == 0:
            return s
        time.sleep(0.05)
    raise AssertionError("session %s still working after %.0f s" % (sid, guard))


def test_restart_keeps_session_config_and_history_and_hides_the_key(comfyd):
    stub = comfyd.sessions()
    cfg = spb.SessionConfig(
        provider="echo",
        model="model-x",
        base_url="http://127.0.0.1:9/v1",
        system_prompt="be brief",
        active_skills=["prompt-writer", "workflow-builder"],
        token_delay_ms=3,
    )
    s = stub.CreateSession(
        spb.CreateSessionRequest(title="durable \u00e9t\u00e9", config=cfg, api_key=SECRET), timeout=10
    ).session
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, "remember me " + words(10))
    settle(stub, s.id, sub)
    first_seq = sub.events[1].seq
    before = get_session(stub, s.id, history=True)
    sub.cancel()

    comfyd.restart()
    stub = comfyd.sessions()
    after = get_session(stub, s.id, history=True)
    a, b = after.session, before.session
    assert (a.id, a.title, a.created_at_ms, a.message_count) == (b.id, b.title, b.created_at_ms, b.message_count)
    assert a.config == b.config, "config changed across restart:\n%s\nvs\n%s" % (a.config, b.config)
    assert a.config.api_key_set
    assert a.status == IDLE
    assert a.last_seq >= b.last_seq
    assert list(after.history) == list(before.history), "history changed across restart"
    for blob in (after.SerializeToString(), stub.ListSessions(spb.ListSessionsRequest(), timeout=10).SerializeToString()):
        assert SECRET.encode() not in blob
    assert SECRET.encode() not in comfyd.all_logs()

    # The ring is gone: an old seq gets a snapshot; new events continue above
    # every seq handed out before the restart.
    old = Sub(stub, s.id, after_seq=first_seq)
    snap = old.next()
    assert kind(snap) == "sync_state", "resume after restart: %s" % snap
    assert snap.sync_state.reason == "gap", snap.sync_state.reason
    assert [m.id for m in snap.sync_state.history] == [m.id for m in before.history]
    send(stub, s.id, "still there?")
    evs = settle(stub, s.id, old)
    assert all(e.seq > b.last_seq for e in evs), "seq reused after restart"
    assert len(get_session(stub, s.id, history=True).history) == len(before.history) + 3
    old.cancel()


def test_kill9_right_after_send_keeps_the_user_message(comfyd):
    stub = comfyd.sessions()
    s = stub.CreateSession(
        spb.CreateSessionRequest(config=spb.SessionConfig(active_skills=["prompt-writer"], token_delay_ms=100)),
        timeout=10,
    ).session
    sub = Sub(stub, s.id)
    sub.next()
    r1 = send(stub, s.id, "running when killed " + words(30))
    r2 = send(stub, s.id, "queued when killed")
    assert r2.queued
    comfyd.kill9()
    sub.wait_end(guard=10)
    seen = max(e.seq for e in sub.events)

    comfyd.start()
    stub = comfyd.sessions()
    fresh = Sub(stub, s.id)
    fresh.next()
    wait_not_working(stub, s.id)
    hist = {m.id: m for m in get_session(stub, s.id, history=True).history}
    for r in (r1, r2):
        assert r.message.id in hist, "acknowledged message %d lost after kill -9" % r.message.id
        m = hist[r.message.id]
        assert m.content == r.message.content and m.role == spb.ROLE_USER
        assert m.state in (spb.MESSAGE_STATE_INTERRUPTED, spb.MESSAGE_STATE_DONE), "state %s" % m.state
        if m.state == spb.MESSAGE_STATE_INTERRUPTED:
            assert m.error, "an interrupted message must say why"
    assert hist[r1.message.id].state == spb.MESSAGE_STATE_INTERRUPTED, "the running turn may have had effects"

    send(stub, s.id, "after the crash")
    evs = settle(stub, s.id, fresh)
    assert all(e.seq > seen for e in evs), "seq reused after kill -9 (seen up to %d)" % seen
    fresh.cancel()


def test_sessions_survive_many_restarts_with_increasing_seq(comfyd):
    stub = comfyd.sessions()
    s = stub.CreateSession(
        spb.CreateSessionRequest(config=spb.SessionConfig(active_skills=["graph-doctor"])), timeout=10
    ).session
    top = 0
    for i in range(3):
        sub = Sub(stub, s.id)
        snap = sub.next()
        assert snap.seq >= top
        send(stub, s.id, "round %d" % i)
        evs = settle(stub, s.id, sub)
        assert min(e.seq for e in evs) > top
        top = max(e.seq for e in evs)
        sub.cancel()
        comfyd.restart()
        stub = comfyd.sessions()
    g = get_session(stub, s.id, history=True)
    assert len(g.history) == 6 and g.session.last_seq >= top
