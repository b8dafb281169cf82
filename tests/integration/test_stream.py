"""Event stream of one session: ordering, interleaved skills, snapshots,
resume by sequence number, queueing, cancel and failures."""

import grpc
from comfyd.v1 import session_pb2 as spb

from helpers import (
    ECHO_PREFIX,
    ERROR,
    IDLE,
    WORKING,
    StreamEnded,
    Sub,
    added,
    configure,
    deltas,
    describe_all,
    get_session,
    is_session_status,
    wait_turns_done,
    kind,
    new_session,
    send,
    settle,
    words,
)

WB = "workflow-builder"
PW = "prompt-writer"
GD = "graph-doctor"


def assert_seq_increasing(evs):
    seqs = [e.seq for e in evs]
    bad = [(a, b) for a, b in zip(seqs, seqs[1:]) if b <= a]
    assert not bad, "seq not strictly increasing at %s:\n%s" % (bad[:5], describe_all(evs))


def reply_text(ds, skill):
    return "".join(d.delta for d in ds if d.skill == skill)


def assert_indexes_contiguous(ds, skill, start=0):
    idx = [d.index for d in ds if d.skill == skill]
    assert idx == list(range(start, start + len(idx))), "delta indexes of %s: %s" % (skill, idx[:50])


def switches(names):
    return sum(1 for a, b in zip(names, names[1:]) if a != b)


def test_two_skills_stream_interleaved_deltas_then_replies_sorted_by_skill(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, title="two skills")
    assert s.config.provider == "echo", "default provider must be echo, got %r" % s.config.provider
    assert s.status == IDLE
    s = configure(stub, s.id, active_skills=[WB, PW], token_delay_ms=20)
    assert list(s.config.active_skills) == [WB, PW]
    assert s.config.token_delay_ms == 20

    sub = Sub(stub, s.id)
    first = sub.next()
    assert kind(first) == "sync_state", "first event must be sync_state, got %s" % kind(first)
    assert first.sync_state.reason == "fresh", "reason for after_seq=0: %r" % first.sync_state.reason
    assert first.sync_state.session.id == s.id
    assert len(first.sync_state.history) == 0

    text = "please build a txt2img workflow " + words(24)
    r = send(stub, s.id, text)
    assert not r.queued and not r.duplicate
    assert r.message.role == spb.ROLE_USER and r.message.content == text
    assert r.message.turn_id == r.message.id
    turn = r.message.id

    evs = [first] + settle(stub, s.id, sub)
    assert_seq_increasing(evs)
    assert all(e.session_id == s.id for e in evs), "events carry another session_id"
    assert all(e.time_ms > 0 for e in evs)

    # The user's message is announced before any reply streams.
    users = added(evs, spb.ROLE_USER)
    assert [m.id for m in users] == [turn], "user message_added: %s" % users
    first_delta = next(i for i, e in enumerate(evs) if kind(e) == "stream_delta")
    user_pos = next(i for i, e in enumerate(evs) if kind(e) == "message_added" and e.message_added.message.id == turn)
    assert user_pos < first_delta

    ds = deltas(evs)
    assert ds, "no stream_delta:\n%s" % describe_all(evs)
    assert {d.skill for d in ds} == {WB, PW}, "deltas from skills %s" % {d.skill for d in ds}
    assert all(d.turn_id == turn for d in ds)
    for sk in (WB, PW):
        assert_indexes_contiguous(ds, sk)
        assert reply_text(ds, sk).startswith(ECHO_PREFIX % sk), reply_text(ds, sk)[:80]

    # Both skills run at once: their deltas alternate while both stream.
    names = [d.skill for d in ds]
    n_wb, n_pw = names.count(WB), names.count(PW)
    assert n_wb >= 10 and n_pw >= 10, "too few deltas to judge interleaving: %d/%d" % (n_wb, n_pw)
    best = 2 * min(n_wb, n_pw) - 1
    got = switches(names)
    assert got >= best // 2, "deltas barely interleave: %d switches of at most %d: %s" % (got, best, names[:60])
    last_wb = max(i for i, n in enumerate(names) if n == WB)
    last_pw = max(i for i, n in enumerate(names) if n == PW)
    assert names.index(WB) < last_pw and names.index(PW) < last_wb, "one skill streamed entirely before the other"

    statuses = [e.status_update.status for e in evs if is_session_status(e, WORKING, IDLE, ERROR)]
    assert statuses and statuses[0] == WORKING and statuses[-1] == IDLE, "session statuses %s" % statuses

    replies = added(evs, spb.ROLE_ASSISTANT)
    assert [m.skill for m in replies] == sorted([WB, PW]), "reply order %s" % [m.skill for m in replies]
    for m in replies:
        assert m.state == spb.MESSAGE_STATE_DONE
        assert m.turn_id == turn
        assert m.content == reply_text(ds, m.skill), "reply of %s differs from its deltas" % m.skill
    # A reply is announced after its last delta.
    for m in replies:
        pos = next(i for i, e in enumerate(evs) if kind(e) == "message_added" and e.message_added.message.id == m.id)
        lastd = max(i for i, e in enumerate(evs) if kind(e) == "stream_delta" and e.stream_delta.skill == m.skill)
        assert lastd < pos

    g = get_session(stub, s.id, history=True)
    assert g.session.status == IDLE
    assert g.session.last_seq == evs[-1].seq, "last_seq %d, last event %d" % (g.session.last_seq, evs[-1].seq)
    assert g.session.message_count == 3
    hist = list(g.history)
    assert [(m.role, m.skill) for m in hist] == [
        (spb.ROLE_USER, ""),
        (spb.ROLE_ASSISTANT, PW),
        (spb.ROLE_ASSISTANT, WB),
    ], hist
    assert hist[0].state == spb.MESSAGE_STATE_DONE, "user message state after its turn: %s" % hist[0].state
    assert [m.id for m in hist[1:]] == [m.id for m in replies]
    assert hist[0].id < hist[1].id < hist[2].id
    sub.cancel()


def test_send_ack_state_and_status_turn_ids_follow_the_contract(comfyd):
    """Details of the contract: a user message that is not queued is not
    reported as QUEUED; a WORKING status names its turn; an IDLE status has
    turn_id 0 ("0 when idle")."""
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW], token_delay_ms=10)
    sub = Sub(stub, s.id)
    sub.next()
    r = send(stub, s.id, words(10))
    assert not r.queued
    evs = settle(stub, s.id, sub)
    ups = [e.status_update for e in evs if is_session_status(e, WORKING, IDLE, ERROR)]
    problems = []
    if r.message.state != spb.MESSAGE_STATE_RUNNING:
        problems.append("SendMessage ack with queued=false has state %s, want MESSAGE_STATE_RUNNING"
                        % spb.MessageState.Name(r.message.state))
    for u in ups:
        if u.status == WORKING and u.turn_id != r.message.id:
            problems.append("WORKING status with turn_id %d, want %d" % (u.turn_id, r.message.id))
        if u.status == IDLE and u.turn_id != 0:
            problems.append("IDLE status with turn_id %d, want 0" % u.turn_id)
    assert not problems, "; ".join(problems)
    sub.cancel()


def test_snapshot_mid_turn_has_partials_that_later_deltas_continue(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[WB, PW], token_delay_ms=25)
    a = Sub(stub, s.id)
    a.next()
    r = send(stub, s.id, words(80))
    # Wait until both skills are well into their replies.
    a.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.index >= 6)
    a.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.index >= 8)

    b = Sub(stub, s.id)
    snap = b.next()
    assert kind(snap) == "sync_state"
    st = snap.sync_state
    assert st.session.status == WORKING
    assert [m.id for m in st.history if m.role == spb.ROLE_USER] == [r.message.id]
    assert [m.state for m in st.history if m.role == spb.ROLE_USER] == [spb.MESSAGE_STATE_RUNNING]
    parts = {p.skill: p for p in st.partials}
    assert set(parts) == {WB, PW}, "partials for %s" % set(parts)
    for p in parts.values():
        assert p.turn_id == r.message.id
        assert p.delta_count >= 1
        assert p.content.startswith(ECHO_PREFIX % p.skill)

    rest = settle(stub, s.id, b)
    assert_seq_increasing([snap] + rest)
    assert all(e.seq > snap.seq for e in rest)
    ds = deltas(rest)
    final = {m.skill: m.content for m in added(rest, spb.ROLE_ASSISTANT)}
    for sk, p in parts.items():
        mine = [d for d in ds if d.skill == sk]
        if mine:
            assert mine[0].index == p.delta_count, "%s: partial has %d deltas, next delta index %d" % (
                sk,
                p.delta_count,
                mine[0].index,
            )
        assert_indexes_contiguous(mine, sk, p.delta_count)
        assert p.content + reply_text(mine, sk) == final[sk], "partial + later deltas != final reply of %s" % sk
    a.cancel()
    b.cancel()


def test_resume_with_last_seen_seq_replays_exactly_the_missed_events(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[WB, PW], token_delay_ms=20)
    ref = Sub(stub, s.id)
    ref.next()
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, words(40))
    sub.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.index >= 5)
    sub.cancel()
    last = sub.last_seq
    # Let events pass while disconnected.
    ref.until(lambda e: e.seq > last + 12)

    back = Sub(stub, s.id, after_seq=last)
    settle(stub, s.id, ref)
    back.until_seq(ref.last_seq)
    missed = [e for e in ref.events if e.seq > last]
    got = back.events
    assert not [e for e in got if kind(e) == "sync_state"], "resume sent a sync_state:\n%s" % describe_all(got[:3])
    assert len(got) == len(missed), "got %d events, missed %d" % (len(got), len(missed))
    for i, (x, y) in enumerate(zip(got, missed)):
        assert x == y, "event %d differs:\n got  %s\n want %s" % (i, x, y)
    # Nothing more arrives for this finished turn.
    assert back.poll(0.3) is None
    ref.cancel()
    back.cancel()


def test_resume_at_current_seq_sends_no_snapshot_only_new_events(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, "one")
    settle(stub, s.id, sub)
    last = get_session(stub, s.id).session.last_seq
    sub.cancel()

    again = Sub(stub, s.id, after_seq=last)
    assert again.poll(0.3) is None, "resume at the newest seq sent something: %s" % again.events
    send(stub, s.id, "two")
    ev = again.next()
    assert kind(ev) != "sync_state" and ev.seq > last, "first event after resume: %s" % ev
    again.cancel()


def test_resume_from_an_evicted_seq_gets_a_gap_snapshot(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, "start")
    settle(stub, s.id, sub)
    sub.cancel()
    old = sub.events[1].seq  # the first event after the snapshot

    # While the events are still in memory, a resume replays them.
    control = Sub(stub, s.id, after_seq=old)
    ev = control.next()
    assert kind(ev) != "sync_state", "resume right away should replay, got a snapshot (%s)" % ev.sync_state.reason
    assert ev.seq > old
    control.cancel()

    # Flood the session (no subscriber: none in Python keeps up with an
    # unpaced echo) until the ring has dropped the old events.
    big = words(7000)
    assert len(big.encode()) <= 64 * 1024
    for i in range(40):
        send(stub, s.id, big)
        last = wait_turns_done(stub, s.id, 2 * (i + 2), guard=120).last_seq
        probe = Sub(stub, s.id, after_seq=old)
        ev = probe.next()
        probe.cancel()
        if kind(ev) == "sync_state":
            break
    else:
        raise AssertionError("after %d events a resume from seq %d still replays" % (last, old))
    assert ev.sync_state.reason == "gap", "reason %r" % ev.sync_state.reason
    assert ev.seq >= last, "snapshot seq %d behind the last event %d" % (ev.seq, last)
    assert ev.sync_state.session.id == s.id and ev.sync_state.session.last_seq == last
    newest = get_session(stub, s.id, history=True, limit=1).history[-1]
    assert ev.sync_state.history and ev.sync_state.history[-1].id == newest.id


def test_message_sent_while_busy_is_queued_and_runs_after(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW], token_delay_ms=30)
    sub = Sub(stub, s.id)
    sub.next()
    # About 3 s of streaming: the queue checks below happen well within it.
    r1 = send(stub, s.id, "first " + words(100))
    r2 = send(stub, s.id, "second")
    r3 = send(stub, s.id, "third")
    assert not r1.queued
    assert r2.queued and r3.queued, (r2, r3)
    assert r2.message.state == spb.MESSAGE_STATE_QUEUED and r3.message.state == spb.MESSAGE_STATE_QUEUED
    assert r2.queue_position in (0, 1), "queue_position of the first queued turn: %d" % r2.queue_position
    assert r3.queue_position == r2.queue_position + 1, (r2.queue_position, r3.queue_position)
    g = get_session(stub, s.id).session
    assert g.status == WORKING and g.queued_turns == 2, (g.status, g.queued_turns)

    evs = settle(stub, s.id, sub)
    turns = [r1.message.id, r2.message.id, r3.message.id]
    order = [d.turn_id for d in deltas(evs)]
    # Each turn's deltas come as one block, in the order the messages were sent.
    blocks = [t for i, t in enumerate(order) if i == 0 or order[i - 1] != t]
    assert blocks == turns, "delta blocks by turn %s, want %s" % (blocks, turns)
    replies = added(evs, spb.ROLE_ASSISTANT)
    assert [m.turn_id for m in replies] == turns
    assert all(m.state == spb.MESSAGE_STATE_DONE for m in replies)
    ups = [e.status_update for e in evs if is_session_status(e, WORKING, IDLE, ERROR)]
    assert ups[-1].status == IDLE and ups[-1].queued_turns == 0
    hist = get_session(stub, s.id, history=True).history
    users = [m for m in hist if m.role == spb.ROLE_USER]
    assert [m.id for m in users] == turns and all(m.state == spb.MESSAGE_STATE_DONE for m in users)
    sub.cancel()


def test_cancel_stops_a_slow_turn_and_marks_replies_cancelled(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[WB, PW], token_delay_ms=200)
    sub = Sub(stub, s.id)
    sub.next()
    # 200 words at 200 ms would take over 40 s.
    r = send(stub, s.id, words(200))
    sub.until(lambda e: kind(e) == "stream_delta" and e.stream_delta.index >= 1)
    c = stub.Cancel(spb.CancelRequest(session_id=s.id), timeout=10)
    assert c.cancelled and c.dropped_queued == 0, c
    # Hang guard well below the turn's natural length.
    evs = settle(stub, s.id, sub, guard=10)
    replies = added(evs, spb.ROLE_ASSISTANT)
    assert sorted(m.skill for m in replies) == [PW, WB], replies
    full = {}
    for m in replies:
        assert m.state == spb.MESSAGE_STATE_CANCELLED, "reply state %s" % m.state
        # What was produced before the cancel, and nothing more.
        assert m.content == reply_text(deltas(sub.events), m.skill), "cancelled reply != its deltas"
        full[m.skill] = m.content
        assert len(m.content) < len(words(200)), "cancelled reply is complete"
    final = [e.status_update.status for e in evs if is_session_status(e, WORKING, IDLE, ERROR)][-1]
    assert final == IDLE, "status after cancel: %s" % final
    assert all(v.startswith(ECHO_PREFIX[:6]) for v in full.values())
    extra = sub.poll(0.5)
    assert extra is None or kind(extra) != "stream_delta", "a delta after the cancelled turn ended"
    hist = get_session(stub, s.id, history=True).history
    user = [m for m in hist if m.id == r.message.id][0]
    assert user.state not in (spb.MESSAGE_STATE_RUNNING, spb.MESSAGE_STATE_QUEUED), user
    # Nothing to cancel now.
    c = stub.Cancel(spb.CancelRequest(session_id=s.id), timeout=10)
    assert not c.cancelled and c.dropped_queued == 0
    sub.cancel()


def test_cancel_with_clear_queue_drops_queued_turns(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW], token_delay_ms=100)
    sub = Sub(stub, s.id)
    sub.next()
    r1 = send(stub, s.id, words(100))
    r2 = send(stub, s.id, "queued one")
    r3 = send(stub, s.id, "queued two")
    assert r2.queued and r3.queued
    sub.until(lambda e: kind(e) == "stream_delta")
    c = stub.Cancel(spb.CancelRequest(session_id=s.id, clear_queue=True), timeout=10)
    assert c.cancelled and c.dropped_queued == 2, c
    evs = settle(stub, s.id, sub, guard=10)
    assert {d.turn_id for d in deltas(evs)} <= {r1.message.id}, "a dropped turn ran"
    hist = {m.id: m for m in get_session(stub, s.id, history=True).history}
    for r in (r2, r3):
        assert hist[r.message.id].state == spb.MESSAGE_STATE_CANCELLED, hist[r.message.id]
    assert not [m for m in hist.values() if m.role == spb.ROLE_ASSISTANT and m.turn_id in (r2.message.id, r3.message.id)]
    g = get_session(stub, s.id).session
    assert g.status == IDLE and g.queued_turns == 0
    sub.cancel()


def test_echo_fail_gives_error_event_error_status_and_failed_reply(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])
    sub = Sub(stub, s.id)
    sub.next()
    r = send(stub, s.id, "break please [echo:fail]")
    evs = settle(stub, s.id, sub)
    errs = [e.error for e in evs if kind(e) == "error"]
    assert errs, "no error event:\n%s" % describe_all(evs)
    assert errs[0].code and errs[0].message and errs[0].turn_id == r.message.id and errs[0].skill == PW, errs[0]
    final = [e.status_update.status for e in evs if is_session_status(e, WORKING, IDLE, ERROR)][-1]
    assert final == ERROR
    g = get_session(stub, s.id, history=True)
    assert g.session.status == ERROR
    failed = [m for m in g.history if m.role == spb.ROLE_ASSISTANT]
    assert len(failed) == 1 and failed[0].state == spb.MESSAGE_STATE_FAILED and failed[0].error, failed

    # The next message clears the error.
    send(stub, s.id, "fine now")
    evs = settle(stub, s.id, sub)
    final = [e.status_update.status for e in evs if is_session_status(e, WORKING, IDLE, ERROR)][-1]
    assert final == IDLE
    assert get_session(stub, s.id).session.status == IDLE
    sub.cancel()


def test_client_message_id_retry_is_a_duplicate_and_runs_once(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[PW])
    sub = Sub(stub, s.id)
    sub.next()
    a = send(stub, s.id, "hello once", client_id="retry-key-1")
    b = send(stub, s.id, "hello once", client_id="retry-key-1")
    assert not a.duplicate and b.duplicate, (a.duplicate, b.duplicate)
    assert b.message.id == a.message.id and b.message.content == a.message.content
    settle(stub, s.id, sub)
    hist = get_session(stub, s.id, history=True).history
    assert [m.role for m in hist] == [spb.ROLE_USER, spb.ROLE_ASSISTANT], hist
    # After the turn the key still finds the stored message.
    c = send(stub, s.id, "hello once", client_id="retry-key-1")
    assert c.duplicate and c.message.id == a.message.id and not c.queued
    assert len(get_session(stub, s.id, history=True).history) == 2
    # Keys are per session.
    other = new_session(stub, skills=[PW])
    d = send(stub, other.id, "hello once", client_id="retry-key-1")
    assert not d.duplicate
    sub.cancel()


def test_send_with_skills_runs_only_those_skills(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[WB])
    sub = Sub(stub, s.id)
    sub.next()
    send(stub, s.id, "check my graph", skills=[GD])
    evs = settle(stub, s.id, sub)
    assert {d.skill for d in deltas(evs)} == {GD}
    assert [m.skill for m in added(evs, spb.ROLE_ASSISTANT)] == [GD]
    assert list(get_session(stub, s.id).session.config.active_skills) == [WB]
    sub.cancel()


def test_configure_changes_only_present_fields_and_notifies_subscribers(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, title="t0", skills=[WB], model="m0", system_prompt="sp0")
    sub = Sub(stub, s.id)
    sub.next()
    u = configure(stub, s.id, title="t1")
    assert u.title == "t1" and u.config.model == "m0" and u.config.system_prompt == "sp0"
    assert list(u.config.active_skills) == [WB]
    ev = sub.until(lambda e: kind(e) == "config_updated")[-1]
    assert ev.config_updated.title == "t1" and ev.config_updated.config.model == "m0"
    u = configure(stub, s.id, model="m1", base_url="http://127.0.0.1:9/v1", active_skills=[])
    assert u.title == "t1" and u.config.model == "m1" and u.config.base_url == "http://127.0.0.1:9/v1"
    assert list(u.config.active_skills) == []
    ev = sub.until(lambda e: kind(e) == "config_updated")[-1]
    assert ev.config_updated.config.model == "m1" and list(ev.config_updated.config.active_skills) == []
    g = get_session(stub, s.id).session
    assert g.title == "t1" and g.config.model == "m1" and g.config.system_prompt == "sp0"
    sub.cancel()


def test_api_key_is_write_only(comfyd):
    stub = comfyd.sessions()
    secret = "sk-test-8c1f4e0d9b7a6c5e4f3a2b1c"
    r = stub.CreateSession(spb.CreateSessionRequest(title="k", api_key=secret), timeout=10)
    assert r.session.config.api_key_set
    sid = r.session.id
    sub = Sub(stub, sid)
    snap = sub.next()
    blobs = [r.SerializeToString(), snap.SerializeToString()]
    blobs.append(get_session(stub, sid, history=True).SerializeToString())
    blobs.append(stub.ListSessions(spb.ListSessionsRequest(), timeout=10).SerializeToString())
    u = configure(stub, sid, title="k2")
    blobs.append(u.SerializeToString())
    blobs.append(sub.until(lambda e: kind(e) == "config_updated")[-1].SerializeToString())
    assert u.config.api_key_set
    u = configure(stub, sid, api_key="")
    assert not u.config.api_key_set, "an empty api_key must remove the stored key"
    u = configure(stub, sid, api_key=secret + "-2")
    assert u.config.api_key_set
    blobs.append(u.SerializeToString())
    for b in blobs:
        assert secret.encode() not in b, "the API key came back in a response"
    assert secret.encode() not in comfyd.all_logs(), "the API key was logged"
    sub.cancel()


def test_subscribe_to_unknown_session_ends_with_not_found(comfyd):
    stub = comfyd.sessions()
    sub = Sub(stub, "3f2b8c1e-0000-4000-8000-000000000000")
    try:
        sub.next()
        raise AssertionError("an event for an unknown session")
    except StreamEnded:
        pass
    assert sub.code == grpc.StatusCode.NOT_FOUND, (sub.code, sub.details)


def test_turn_counts_and_last_seq_are_consistent_over_several_turns(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=[WB, GD])
    sub = Sub(stub, s.id)
    sub.next()
    for i in range(5):
        send(stub, s.id, "message %d %s" % (i, words(5)))
        settle(stub, s.id, sub)
    evs = sub.events
    assert_seq_increasing(evs)
    g = get_session(stub, s.id, history=True)
    assert g.session.message_count == 15 and len(g.history) == 15
    assert g.session.last_seq == sub.last_seq
    lim = get_session(stub, s.id, history=True, limit=4)
    assert len(lim.history) == 4 and lim.history_truncated
    assert [m.id for m in lim.history] == [m.id for m in g.history[-4:]]
    assert not g.history_truncated
    sub.cancel()
