"""The cost of a graph command forwarded to the core holding its canvas
against the same command on that core (docs/scale-out.md): two cores on
one PostgreSQL database, a bridge on each, a headless editor (tests/graph)
attached through bridge A. The same commands go through bridge A (local)
and through bridge B (core B forwards them to core A over gRPC), one at a
time on a kept-alive HTTP connection; the round trips are printed. Run by
bench/pg_forward.sh, which starts a private PostgreSQL server."""

import http.client
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import conftest  # noqa: E402  (generates the stubs)
from test_attachments import Bridge  # noqa: E402
from test_pg_canvases import OBJECT_INFO, Editor, wait_registered  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100.0))]


def timed(conn, token, body):
    raw = json.dumps(body).encode()
    t0 = time.perf_counter()
    conn.request("POST", "/comfy/graph/command", raw,
                  {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    dt = time.perf_counter() - t0
    out = json.loads(data)
    if r.status != 200 or out.get("ok") is False:
        raise SystemExit("command failed: %s %s" % (r.status, data[:300]))
    return dt, out


def run(label, br, cmds, n):
    conn = http.client.HTTPConnection("127.0.0.1", br.port, timeout=30)
    for c in cmds[:5]:  # warm the connection and the core's channel
        timed(conn, br.token, c)
    ms = []
    for i in range(n):
        dt, _ = timed(conn, br.token, cmds[i % len(cmds)])
        ms.append(dt * 1000)
    conn.close()
    print("  %-30s n=%d  p50 %.2f ms  p95 %.2f ms  mean %.2f ms  max %.1f ms" % (
        label, n, pct(ms, 50), pct(ms, 95), statistics.mean(ms), max(ms)))
    return ms


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    oi = ["--object-info", OBJECT_INFO]
    a = conftest.Comfyd(extra=oi)
    uri = conftest.pg_store_for(a.data)
    b = conftest.Comfyd(extra=oi + ["--store", uri])
    ed = None
    brs = []
    try:
        a.start()
        b.start()
        br_a, br_b = Bridge(a), Bridge(b)
        brs = [br_a, br_b]
        cid = "bench-forward"
        ed = Editor(br_a, cid)
        ed.wait("editor: attached %s" % cid)
        wait_registered(br_b, cid)
        conn = http.client.HTTPConnection("127.0.0.1", br_a.port, timeout=30)
        _, made = timed(conn, br_a.token, {"type": "create_node", "node_type": "KSampler", "x": 0, "y": 0,
                                           "canvas_id": cid})
        conn.close()
        node = int(made["result"]["node_id"])
        reads = [{"type": "get_graph", "canvas_id": cid}]
        moves = [{"type": "move_node", "node_id": node, "x": i, "y": i, "canvas_id": cid} for i in range(50)]
        print("graph commands, %d each, one at a time (load: %s)" % (n, os.getloadavg()[0]))
        la = run("get_graph  local (A)", br_a, reads, n)
        lb = run("get_graph  forwarded (B->A)", br_b, reads, n)
        pa = run("move_node  local (A)", br_a, moves, n)
        pb = run("move_node  forwarded (B->A)", br_b, moves, n)
        print("forwarding adds: get_graph p50 %+.2f ms, move_node p50 %+.2f ms" % (
            pct(lb, 50) - pct(la, 50), pct(pb, 50) - pct(pa, 50)))
        patched = len(ed.patches())
        print("patches applied by the tab: %d (1 create_node + %d moves expected, with warm-up)" % (
            patched, 2 * n + 10))
    finally:
        if ed:
            ed.stop()
        for br in brs:
            br.stop()
        for c in (a, b):
            c.stop()


if __name__ == "__main__":
    main()
