"""Fork and revert of sessions through gRPC: a fork holds the history up to
a message with the parent's configuration, skills and session memories and
records its parent; a revert hides the later messages (kept stored, out of
the history, counts and search) and says so on the event stream; both
survive a restart; bad input gets clear errors and the service stays up.
(The canvas side, checkpoints restored into a tab, is tests/agent's
revert.test.mjs.)"""

import time

import grpc
import pytest
from comfyd.v1 import session_pb2 as spb
from google.protobuf import wrappers_pb2

from helpers import Sub, get_session, kind, new_session, send, wait_turns_done
from test_memory import MEMORY_SKILL, llm, text_step, tool_step  # noqa: F401 (llm is a fixture)


def history(stub, sid):
    return list(get_session(stub, sid, history=True).history)


def rpc_error(fn, *args, **kw):
    with pytest.raises(grpc.RpcError) as ei:
        fn(*args, timeout=10, **kw)
    return ei.value


def test_fork_copies_history_config_skills_and_memories(comfyd_factory, llm, tmp_path):  # noqa: F811
    skills = tmp_path / "skills"
    (skills / "keeper").mkdir(parents=True)
    (skills / "keeper" / "SKILL.md").write_text(MEMORY_SKILL)
    c = comfyd_factory(skills=str(skills))
    stub = c.sessions()
    llm.write_script("fork-a", [tool_step("remember", {"content": "the lighthouse is cobalt blue"}),
                                text_step("Noted the lighthouse."),
                                text_step("The second answer.")])
    a = new_session(stub, skills=["keeper"], title="harbour study", api_key="sk-test",
                    provider="openai", model="fork-a", base_url=llm.url, system_prompt="Be brief.",
                    context_window=8192)
    send(stub, a.id, "remember the lighthouse colour")
    wait_turns_done(stub, a.id, 2)
    send(stub, a.id, "and now a second question")
    wait_turns_done(stub, a.id, 4)
    ha = history(stub, a.id)
    assert [m.role for m in ha] == [spb.ROLE_USER, spb.ROLE_ASSISTANT] * 2

    # Fork at the first reply: the first turn, both its messages.
    r = stub.ForkSession(spb.ForkSessionRequest(session_id=a.id, message_id=ha[1].id), timeout=10)
    f = r.session
    assert r.messages_copied == 2
    assert f.id != a.id and f.parent_id == a.id and f.fork_point == ha[1].id
    assert f.title == "harbour study (fork)"
    assert f.message_count == 2
    for field in ("provider", "model", "base_url", "system_prompt", "context_window"):
        assert getattr(f.config, field) == getattr(a.config, field), field
    assert list(f.config.active_skills) == ["keeper"]
    assert f.config.api_key_set
    hf = history(stub, f.id)
    assert [(m.role, m.content) for m in hf] == [(m.role, m.content) for m in ha[:2]]
    # Copies with ids of their own; the reply belongs to the copied turn.
    assert hf[0].id not in (m.id for m in ha)
    assert hf[0].turn_id == hf[0].id and hf[1].turn_id == hf[0].id
    # The session memory came along: found by a search within the fork.
    hits = stub.SearchSessions(spb.SearchSessionsRequest(query="cobalt", session_id=f.id,
                                                         kinds=[spb.SEARCH_HIT_KIND_MEMORY]), timeout=10).hits
    assert len(hits) == 1
    # The parent is untouched.
    assert [m.id for m in history(stub, a.id)] == [m.id for m in ha]

    # At a user message with a title of its own: up to and including it.
    r2 = stub.ForkSession(spb.ForkSessionRequest(session_id=a.id, message_id=ha[2].id, title="branch"),
                          timeout=10)
    assert r2.messages_copied == 3 and r2.session.title == "branch"
    assert [m.content for m in history(stub, r2.session.id)] == [m.content for m in ha[:3]]

    # A fork survives a restart with its parent and fork point.
    c.restart()
    stub = c.sessions()
    s = get_session(stub, f.id, history=True)
    assert s.session.parent_id == a.id and s.session.fork_point == ha[1].id
    assert [m.content for m in s.history] == [m.content for m in ha[:2]]


def test_revert_hides_later_messages_and_survives_restart(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=["prompt-writer"])
    for i, text in enumerate(("a kingfisher on a branch", "make it a heron", "now an osprey at dusk")):
        send(stub, s.id, text)
        wait_turns_done(stub, s.id, 2 * (i + 1))
    h = history(stub, s.id)
    assert len(h) == 6
    sub = Sub(stub, s.id, after_seq=get_session(stub, s.id).session.last_seq)

    r = stub.RevertSession(spb.RevertSessionRequest(session_id=s.id, message_id=h[1].id), timeout=10)
    assert r.messages_hidden == 4
    assert r.session.message_count == 2
    assert not r.restored
    assert [m.id for m in history(stub, s.id)] == [h[0].id, h[1].id]
    ev = sub.until(lambda e: kind(e) == "reverted")[-1]
    assert ev.reverted.to_message_id == h[1].id and ev.reverted.messages_hidden == 4
    sub.cancel()
    # Hidden messages leave search; the kept ones are still found.
    assert not stub.SearchSessions(spb.SearchSessionsRequest(query="osprey", session_id=s.id), timeout=10).hits
    assert stub.SearchSessions(spb.SearchSessionsRequest(query="kingfisher", session_id=s.id), timeout=10).hits
    # The conversation goes on from there.
    send(stub, s.id, "a swan instead")
    wait_turns_done(stub, s.id, 4)
    after = history(stub, s.id)
    assert [m.content for m in after[:2]] == [h[0].content, h[1].content]
    assert after[2].content == "a swan instead" and after[2].id > h[5].id
    md = stub.ExportSession(spb.ExportSessionRequest(session_id=s.id), timeout=10).content
    assert "swan" in md and "osprey" not in md

    comfyd.restart()
    stub = comfyd.sessions()
    assert [m.id for m in history(stub, s.id)] == [m.id for m in after]
    assert get_session(stub, s.id).session.message_count == 4
    assert not stub.ListCheckpoints(spb.ListCheckpointsRequest(session_id=s.id), timeout=10).checkpoints
    # Without checkpoints, restore_canvas restores nothing and says so.
    r = stub.RevertSession(spb.RevertSessionRequest(session_id=s.id, message_id=after[0].id,
                                                    restore_canvas=True), timeout=10)
    assert r.messages_hidden == 3 and not r.restored
    assert "no canvas checkpoint" in r.notice


def test_fork_and_revert_bad_input(comfyd):
    stub = comfyd.sessions()
    a = new_session(stub, skills=["prompt-writer"])
    b = new_session(stub, skills=["prompt-writer"])
    send(stub, a.id, "first of a")
    send(stub, b.id, "first of b")
    wait_turns_done(stub, a.id, 2)
    wait_turns_done(stub, b.id, 2)
    ha, hb = history(stub, a.id), history(stub, b.id)

    for call, req in ((stub.ForkSession, spb.ForkSessionRequest), (stub.RevertSession, spb.RevertSessionRequest)):
        e = rpc_error(call, req(session_id=a.id, message_id=hb[0].id))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "belongs to another session" in e.details()
        e = rpc_error(call, req(session_id=a.id, message_id=987654321))
        assert e.code() == grpc.StatusCode.NOT_FOUND and "message 987654321 not found" in e.details()
        e = rpc_error(call, req(session_id=a.id))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "message_id" in e.details()
        e = rpc_error(call, req(session_id="00000000-0000-4000-8000-000000000000", message_id=ha[0].id))
        assert e.code() == grpc.StatusCode.NOT_FOUND
        e = rpc_error(call, req(session_id="../etc", message_id=ha[0].id))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    e = rpc_error(stub.ForkSession, spb.ForkSessionRequest(session_id=a.id, message_id=ha[0].id, title="x" * 201))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "title" in e.details()
    e = rpc_error(stub.ListCheckpoints, spb.ListCheckpointsRequest(session_id="00000000-0000-4000-8000-000000000000"))
    assert e.code() == grpc.StatusCode.NOT_FOUND

    # A message a revert hid can be neither reverted to nor forked from.
    stub.RevertSession(spb.RevertSessionRequest(session_id=a.id, message_id=ha[0].id), timeout=10)
    for call, req in ((stub.ForkSession, spb.ForkSessionRequest), (stub.RevertSession, spb.RevertSessionRequest)):
        e = rpc_error(call, req(session_id=a.id, message_id=ha[1].id))
        assert e.code() == grpc.StatusCode.NOT_FOUND and "hidden by a revert" in e.details()

    # While a turn runs: a revert is refused, a fork copies the running turn
    # as interrupted (it is the source's to finish, never run by the fork).
    slow = new_session(stub, skills=["prompt-writer"], token_delay_ms=200)
    m = send(stub, slow.id, "a long answer please " * 5).message
    deadline = time.monotonic() + 10
    while get_session(stub, slow.id).session.status != spb.SESSION_STATUS_WORKING:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    e = rpc_error(stub.RevertSession, spb.RevertSessionRequest(session_id=slow.id, message_id=m.id))
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION and "idle" in e.details()
    f = stub.ForkSession(spb.ForkSessionRequest(session_id=slow.id, message_id=m.id), timeout=10).session
    hf = history(stub, f.id)
    assert len(hf) == 1 and hf[0].state == spb.MESSAGE_STATE_INTERRUPTED
    assert get_session(stub, f.id).session.status == spb.SESSION_STATUS_IDLE
    stub.Cancel(spb.CancelRequest(session_id=slow.id, clear_queue=True), timeout=10)
    comfyd.restart()
    stub = comfyd.sessions()
    hf = history(stub, f.id)
    assert len(hf) == 1 and hf[0].state == spb.MESSAGE_STATE_INTERRUPTED
    assert get_session(stub, a.id).session.message_count == 1


def test_unrevert_brings_hidden_messages_back_unless_the_session_moved_on(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=["prompt-writer"])
    for i, text in enumerate(("a wren on a fence", "make it a robin", "now a jay in snow")):
        send(stub, s.id, text)
        wait_turns_done(stub, s.id, 2 * (i + 1))
    h = history(stub, s.id)
    e = rpc_error(stub.UnrevertSession, spb.UnrevertSessionRequest(session_id=s.id))
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION and "no revert to undo" in e.details()
    stub.RevertSession(spb.RevertSessionRequest(session_id=s.id, message_id=h[3].id), timeout=10)
    stub.RevertSession(spb.RevertSessionRequest(session_id=s.id, message_id=h[1].id), timeout=10)
    assert len(history(stub, s.id)) == 2
    sub = Sub(stub, s.id, after_seq=get_session(stub, s.id).session.last_seq)
    # The latest revert first: the robin's turn comes back, with an event.
    r = stub.UnrevertSession(spb.UnrevertSessionRequest(session_id=s.id), timeout=10)
    assert r.messages_restored == 2 and r.session.message_count == 4
    assert "back" in r.notice
    ev = sub.until(lambda e: kind(e) == "unreverted")[-1]
    assert [m.id for m in ev.unreverted.messages] == [h[2].id, h[3].id]
    assert ev.unreverted.messages[0].content == "make it a robin"
    sub.cancel()
    assert stub.SearchSessions(spb.SearchSessionsRequest(query="robin", session_id=s.id), timeout=10).hits
    assert not stub.SearchSessions(spb.SearchSessionsRequest(query="jay", session_id=s.id), timeout=10).hits
    # It survives a restart, and the earlier revert can be undone after it.
    comfyd.restart()
    stub = comfyd.sessions()
    assert [m.id for m in history(stub, s.id)] == [m.id for m in h[:4]]
    r = stub.UnrevertSession(spb.UnrevertSessionRequest(session_id=s.id), timeout=10)
    assert r.messages_restored == 2
    assert [m.id for m in history(stub, s.id)] == [m.id for m in h]
    assert stub.SearchSessions(spb.SearchSessionsRequest(query="jay", session_id=s.id), timeout=10).hits
    # Moved on: a new message, or a compaction, since the revert: refused
    # with the reason, nothing changes.
    stub.RevertSession(spb.RevertSessionRequest(session_id=s.id, message_id=h[1].id), timeout=10)
    send(stub, s.id, "a finch")
    wait_turns_done(stub, s.id, 4)
    e = rpc_error(stub.UnrevertSession, spb.UnrevertSessionRequest(session_id=s.id))
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION and "new messages since" in e.details()
    t = new_session(stub, skills=["prompt-writer"])
    for i, text in enumerate(("an owl", "a lark", "a swift")):
        send(stub, t.id, text)
        wait_turns_done(stub, t.id, 2 * (i + 1))
    th = history(stub, t.id)
    stub.RevertSession(spb.RevertSessionRequest(session_id=t.id, message_id=th[3].id), timeout=10)
    c = stub.CompactSession(spb.CompactSessionRequest(session_id=t.id), timeout=30)
    assert c.messages_compacted > 0
    e = rpc_error(stub.UnrevertSession, spb.UnrevertSessionRequest(session_id=t.id))
    assert e.code() == grpc.StatusCode.FAILED_PRECONDITION and "compacted since" in e.details()
    assert len(history(stub, t.id)) == 5  # 4 kept + the summary
    e = rpc_error(stub.UnrevertSession, spb.UnrevertSessionRequest(session_id="no-such-session"))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    e = rpc_error(stub.UnrevertSession, spb.UnrevertSessionRequest(
        session_id="00000000-0000-4000-8000-000000000000"))
    assert e.code() == grpc.StatusCode.NOT_FOUND
