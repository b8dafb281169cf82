"""The session status between queued turns: a panel must never see `idle`
while turns are still waiting (status_update stays `working` until the
queue is empty)."""

from helpers import (
    IDLE,
    WORKING,
    Sub,
    describe_all,
    is_session_status,
    kind,
    new_session,
    send,
    settle,
    words,
)

PW = "prompt-writer"


def test_status_stays_working_until_the_last_queued_turn_finished(comfyd):
    stub = comfyd.sessions()
    # Slow enough that the second and third messages are queued behind the
    # first one.
    s = new_session(stub, skills=[PW], token_delay_ms=20)
    sub = Sub(stub, s.id)
    acks = [send(stub, s.id, words(12, "m%d_" % i)) for i in range(3)]
    assert not acks[0].queued, "the first message should start at once"
    assert acks[1].queued and acks[2].queued, "the later messages should be queued"
    evs = settle(stub, s.id, sub)
    sub.cancel()
    statuses = [e for e in evs if is_session_status(e, IDLE, WORKING)]
    problems = []
    for e in statuses:
        su = e.status_update
        if su.status == IDLE and su.queued_turns > 0:
            problems.append("#%d idle with queued_turns=%d" % (e.seq, su.queued_turns))
    idles = [e for e in statuses if e.status_update.status == IDLE]
    if len(idles) != 1:
        problems.append("%d idle status_updates, want exactly one (after the last turn)" % len(idles))
    # Every turn's reply is in before the one idle.
    finished = [e for e in evs if kind(e) == "message_added" and e.message_added.message.skill == PW]
    if idles and finished and finished[-1].seq > idles[-1].seq:
        problems.append("a reply was added after the idle status")
    if len(finished) != 3:
        problems.append("%d replies, want 3" % len(finished))
    assert not problems, "%s\n%s" % ("; ".join(problems), describe_all(evs, limit=200))
