"""Many subscribers on one session: identical streams, and a subscriber
that never reads must not hold the others back."""

import threading

import grpc
from comfyd.v1 import session_pb2 as spb
from comfyd.v1 import session_pb2_grpc as sgrpc

from helpers import GUARD_S, Sub, describe_all, get_session, kind, new_session, send, settle, words


def test_twenty_subscribers_receive_identical_sequences(comfyd):
    stub = comfyd.sessions()
    s = new_session(stub, skills=["workflow-builder", "prompt-writer"], token_delay_ms=2)
    # Spread the subscribers over a few connections, unix and TCP.
    stubs = [comfyd.sessions(tcp=(i % 2 == 1)) for i in range(4)]
    subs = [Sub(stubs[i % 4], s.id) for i in range(20)]
    snaps = [sub.next() for sub in subs]
    assert all(kind(e) == "sync_state" for e in snaps)
    assert len({e.seq for e in snaps}) == 1, "subscribers joined an idle session at different seqs"
    for i in range(3):
        send(stub, s.id, "fan out %d %s" % (i, words(60)))
    settle(stub, s.id, subs[0], guard=120)
    ref = subs[0].events[1:]
    assert len(ref) > 300, "expected a long stream, got %d events" % len(ref)
    for i, sub in enumerate(subs[1:], 1):
        sub.until_seq(subs[0].last_seq)
        got = sub.events[1:]
        assert len(got) == len(ref), "subscriber %d got %d events, subscriber 0 got %d" % (i, len(got), len(ref))
        diff = [j for j, (a, b) in enumerate(zip(got, ref)) if a != b]
        assert not diff, "subscriber %d differs at event %d:\n%s\nvs\n%s" % (i, diff[0], got[diff[0]], ref[diff[0]])
    for sub in subs:
        sub.cancel()


def check_no_silent_loss(got, ref):
    """got (after its first snapshot) must follow ref exactly, except that a
    sync_state may restart it later on (a declared gap)."""
    by_seq = {e.seq: i for i, e in enumerate(ref)}
    pos = None
    for e in got:
        if kind(e) == "sync_state":
            pos = next((i for i, r in enumerate(ref) if r.seq > e.seq), len(ref))
            continue
        assert pos is not None, "events before any snapshot"
        assert pos < len(ref) and e == ref[pos], "silent gap: got seq %d, expected seq %s" % (
            e.seq,
            ref[pos].seq if pos < len(ref) else "end",
        )
        assert by_seq[e.seq] == pos
        pos += 1


def test_a_subscriber_that_never_reads_does_not_stall_the_others(comfyd):
    stub = comfyd.sessions()
    # Paced at 1 ms per token so that the Python readers keep up (an unpaced
    # echo outruns any Python client, which the service then drops).
    s = new_session(stub, skills=["prompt-writer", "graph-doctor"], token_delay_ms=1)
    # Without BDP probing the client keeps a 64 KiB window, so the flood
    # below fills the server's queue for this stream.
    stall_ch = comfyd.channel(options=[("grpc.http2.bdp_probe", 0)])
    stalled = sgrpc.SessionServiceStub(stall_ch).Subscribe(spb.SubscribeRequest(session_id=s.id))
    first = next(stalled)
    assert first.event.WhichOneof("kind") == "sync_state"

    reader = Sub(stub, s.id)
    reader.next()
    tcp_reader = Sub(comfyd.sessions(tcp=True), s.id)
    tcp_reader.next()
    big = words(5000)
    for _ in range(2):
        send(stub, s.id, big)
    settle(stub, s.id, reader, guard=180)
    tcp_reader.until_seq(reader.last_seq, guard=60)
    assert reader.events[1:] == tcp_reader.events[1:], "the two reading subscribers differ"
    n = sum(1 for e in reader.events if kind(e) == "stream_delta")
    assert n >= 4 * 2000, "flood produced only %d deltas" % n
    g = get_session(stub, s.id, history=True)
    assert len(g.history) == 6 and g.session.last_seq == reader.last_seq

    # Now read what the stalled subscriber got: a prefix of the stream, maybe
    # a declared gap, possibly an error end; never a silent hole.
    got = [first.event]
    status = {}

    def drain():
        try:
            for resp in stalled:
                got.append(resp.event)
                if resp.event.seq >= reader.last_seq:
                    break
            status["code"] = grpc.StatusCode.OK
        except grpc.RpcError as e:
            status["code"] = e.code()
            status["details"] = e.details()

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    t.join(GUARD_S)
    assert not t.is_alive(), "the stalled stream neither continued nor ended (%d events)" % len(got)
    print("stalled subscriber: %d events, end %s %s" % (len(got), status.get("code"), status.get("details", "")))
    try:
        check_no_silent_loss(got, reader.events[1:])
    except AssertionError as e:
        raise AssertionError("%s\nstalled stream tail:\n%s" % (e, describe_all(got[-10:])))
    if status["code"] == grpc.StatusCode.OK and got[-1].seq < reader.last_seq:
        raise AssertionError("stalled stream ended cleanly before the end of the session's events")
    stalled.cancel()
    reader.cancel()
    tcp_reader.cancel()
