"""Session lifecycle: create defaults, ListSessions paging, DeleteSession."""

import time
import uuid

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb

from helpers import IDLE, StreamEnded, Sub, configure, get_session, kind, new_session, send, settle, words


def list_all(stub, page_size):
    pages, token = [], ""
    for _ in range(1000):
        r = stub.ListSessions(spb.ListSessionsRequest(page_size=page_size, page_token=token), timeout=10)
        pages.append(list(r.sessions))
        token = r.next_page_token
        if not token:
            return pages
    raise AssertionError("ListSessions never ended")


def test_create_gives_an_idle_echo_session_with_defaults(comfyd):
    stub = comfyd.sessions()
    before = int(time.time() * 1000)
    s = stub.CreateSession(spb.CreateSessionRequest(), timeout=10).session
    assert len(s.id) == 36 and s.id.count("-") == 4, s.id
    assert s.status == IDLE and s.config.provider == "echo"
    assert s.message_count == 0 and s.queued_turns == 0
    assert not s.config.api_key_set
    assert before - 5000 <= s.created_at_ms <= int(time.time() * 1000) + 5000
    assert s.updated_at_ms >= s.created_at_ms
    g = get_session(stub, s.id, history=True)
    assert g.session == s and list(g.history) == [] and not g.history_truncated
    other = new_session(stub)
    assert other.id != s.id


def test_list_sessions_pages_through_everything_newest_first(comfyd):
    stub = comfyd.sessions()
    made = []
    for i in range(7):
        made.append(new_session(stub, title="s%d" % i, skills=["prompt-writer"]).id)
        time.sleep(0.005)
    pages = list_all(stub, 3)
    assert [len(p) for p in pages] == [3, 3, 1], [len(p) for p in pages]
    flat = [s for p in pages for s in p]
    ids = [s.id for s in flat]
    assert len(set(ids)) == len(ids) == 7 and set(ids) == set(made)
    keys = [(s.updated_at_ms, s.id) for s in flat]
    assert keys == sorted(keys, reverse=True), "not newest first: %s" % keys
    assert ids == list(reversed(made)), "creation order not reflected"
    one = list_all(stub, 0)
    assert len(one) == 1 and [s.id for s in one[0]] == ids, "page_size 0 means 50"
    exact = list_all(stub, 7)
    assert [len(p) for p in exact] in ([7], [7, 0]), [len(p) for p in exact]

    # Activity moves a session to the front.
    sub = Sub(stub, made[0])
    sub.next()
    send(stub, made[0], "bump")
    settle(stub, made[0], sub)
    sub.cancel()
    first = stub.ListSessions(spb.ListSessionsRequest(page_size=1), timeout=10).sessions[0]
    assert first.id == made[0], "a session with a new message should be listed first"


def test_list_sessions_pages_stay_consistent_when_a_session_changes_between_pages(comfyd):
    stub = comfyd.sessions()
    made = [new_session(stub, title="p%d" % i).id for i in range(6)]
    r1 = stub.ListSessions(spb.ListSessionsRequest(page_size=3), timeout=10)
    # Delete one that was already returned; the rest must still all come.
    stub.DeleteSession(spb.DeleteSessionRequest(session_id=r1.sessions[0].id), timeout=10)
    seen = [s.id for s in r1.sessions]
    token = r1.next_page_token
    while token:
        r = stub.ListSessions(spb.ListSessionsRequest(page_size=3, page_token=token), timeout=10)
        seen += [s.id for s in r.sessions]
        token = r.next_page_token
    assert sorted(seen) == sorted(made), "paging lost or repeated sessions"


def test_delete_removes_the_session_and_ends_its_streams(comfyd):
    stub = comfyd.sessions()
    keep = new_session(stub, title="keep")
    s = new_session(stub, skills=["prompt-writer"], token_delay_ms=100)
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, words(100))
    sub.until(lambda e: kind(e) == "stream_delta")
    stub.DeleteSession(spb.DeleteSessionRequest(session_id=s.id), timeout=10)
    # The stream ends (whatever the status); it does not hang.
    sub.wait_end(guard=10)
    assert sub.code is not None
    for call in (
        lambda: get_session(stub, s.id),
        lambda: stub.DeleteSession(spb.DeleteSessionRequest(session_id=s.id), timeout=10),
        lambda: send(stub, s.id, "anyone?"),
    ):
        with pytest.raises(grpc.RpcError) as ei:
            call()
        assert ei.value.code() == grpc.StatusCode.NOT_FOUND, ei.value
    ids = [x.id for p in list_all(stub, 50) for x in p]
    assert s.id not in ids and keep.id in ids
    late = Sub(stub, s.id)
    with pytest.raises(StreamEnded):
        late.next(guard=10)
    assert late.code == grpc.StatusCode.NOT_FOUND

    comfyd.restart()
    stub = comfyd.sessions()
    with pytest.raises(grpc.RpcError) as ei:
        get_session(stub, s.id)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND
    assert get_session(stub, keep.id).session.title == "keep"


def test_create_with_a_client_chosen_id_makes_that_session_once(comfyd):
    """Seed 000's handshake needs a session whose id the client made up."""
    stub = comfyd.sessions()
    sid = str(uuid.uuid4())
    s = stub.CreateSession(spb.CreateSessionRequest(session_id=sid, title="mine"), timeout=10).session
    assert s.id == sid and s.title == "mine" and s.status == IDLE
    assert get_session(stub, sid).session.id == sid
    with pytest.raises(grpc.RpcError) as e:
        stub.CreateSession(spb.CreateSessionRequest(session_id=sid, title="theirs"), timeout=10)
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "already exists" in e.value.details()
    assert get_session(stub, sid).session.title == "mine"
    for bad in ("test_sess_001", sid.upper(), sid + "0", "../" + sid[3:]):
        with pytest.raises(grpc.RpcError) as e:
            stub.CreateSession(spb.CreateSessionRequest(session_id=bad), timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
        assert "session_id" in e.value.details()


def test_vision_is_auto_by_default_set_by_create_and_configure_and_checked(comfyd):
    """SessionConfig.vision: whether the model is sent images (docs/runs.md)."""
    stub = comfyd.sessions()
    s = new_session(stub)
    assert s.config.vision == "auto"
    on = new_session(stub, vision="on")
    assert on.config.vision == "on"
    assert get_session(stub, on.id).session.config.vision == "on"
    off = configure(stub, on.id, vision="off")
    assert off.config.vision == "off"
    back = configure(stub, on.id, vision="")
    assert back.config.vision == "auto"
    for bad in ("yes", "ON", "auto "):
        with pytest.raises(grpc.RpcError) as e:
            configure(stub, on.id, vision=bad)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
        assert 'vision must be "auto", "on" or "off"' in e.value.details()
        with pytest.raises(grpc.RpcError) as e:
            new_session(stub, vision=bad)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
    assert get_session(stub, on.id).session.config.vision == "auto"
