"""The events' fan-out across cores on one PostgreSQL database: two cores,
a subscriber on each, one turn streamed by core A; for each streamed token,
the delay between its arrival on core A's subscriber and on core B's
(LISTEN/NOTIFY through the server, docs/scale-out.md). Run by
bench/pg_fanout.sh, which starts a private PostgreSQL server."""

import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import conftest  # noqa: E402  (generates the stubs)
from comfyd.v1 import session_pb2 as spb  # noqa: E402
from helpers import new_session, send, words  # noqa: E402


def follow(stub, sid, got, done, turn_box):
    """Arrival times of every stream delta, keyed (turn, skill, index)."""
    for resp in stub.Subscribe(spb.SubscribeRequest(session_id=sid)):
        ev = resp.event
        k = ev.WhichOneof("kind")
        now = time.monotonic()
        if k == "stream_delta":
            d = ev.stream_delta
            got[(d.turn_id, d.skill, d.index)] = now
        elif k == "message_added" and ev.message_added.message.role == spb.ROLE_ASSISTANT:
            if ev.message_added.message.turn_id == turn_box.get("turn"):
                got["reply"] = now
                done.set()
                return


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100.0))]


def main():
    n_words = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    delay_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    a = conftest.Comfyd(echo_delay_ms=delay_ms)
    uri = conftest.pg_store_for(a.data)
    b = conftest.Comfyd(echo_delay_ms=delay_ms, extra=["--store", uri])
    try:
        a.start()
        b.start()
        sa, sb = a.sessions(), b.sessions()
        s = new_session(sa, skills=["prompt-writer"], token_delay_ms=delay_ms, title="fan-out bench")
        box = {}
        got_a, got_b = {}, {}
        done_a, done_b = threading.Event(), threading.Event()
        threads = [threading.Thread(target=follow, args=(sa, s.id, got_a, done_a, box), daemon=True),
                   threading.Thread(target=follow, args=(sb, s.id, got_b, done_b, box), daemon=True)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # both subscriptions in place
        t0 = time.monotonic()
        box["turn"] = send(sa, s.id, words(n_words)).message.id
        if not (done_a.wait(300) and done_b.wait(300)):
            raise SystemExit("the turn did not finish on both cores")
        keys = [k for k in got_a if k != "reply"]
        lost = [k for k in keys if k not in got_b]
        lags = [(got_b[k] - got_a[k]) * 1000.0 for k in keys if k in got_b]
        print("tokens streamed by core A: %d; seen on core B: %d (missing %d)" % (len(keys), len(lags), len(lost)))
        print("fan-out delay A -> B per token, ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f  mean %.2f" % (
            pct(lags, 50), pct(lags, 95), pct(lags, 99), max(lags), statistics.mean(lags)))
        print("turn: reply on A after %.0f ms, on B after %.0f ms (token delay %d ms)" % (
            (got_a["reply"] - t0) * 1000.0, (got_b["reply"] - t0) * 1000.0, delay_ms))
        print("load average: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
    finally:
        for c in (a, b):
            if c.alive():
                c.stop()
            c.cleanup()


if __name__ == "__main__":
    main()
