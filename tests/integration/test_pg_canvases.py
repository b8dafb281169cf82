"""Canvases across cores on one PostgreSQL database (run by
tests/postgres/run.sh, skipped otherwise): a tab attached through bridge A
(core A) is reached by graph commands through bridge B (core B), which
forwards them to core A (docs/scale-out.md). The tab is the headless editor
of tests/graph (a real LiteGraph graph applying every patch)."""

import json
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest

from conftest import REPO, pg_store_for
from test_attachments import Bridge
from test_pg_cores import LEASE_ENV, LEASE_MS, stop_bridge

pytestmark = pytest.mark.skipif(
    not (os.environ.get("COMFYD_IT_PG") and os.environ.get("PG_DIR")),
    reason="PostgreSQL only: run through tests/postgres/run.sh",
)

GRAPH_DIR = os.path.join(REPO, "tests", "graph")
OBJECT_INFO = os.path.join(REPO, "tests", "fixtures", "object_info.json")
# How long a graph command through B may take when its holder is dead: a
# refused connection is an error at once, not a wait for a timeout.
DEAD_HOLDER_S = 5.0


class Editor:
    """tests/graph/editor.mjs as a process: a tab attached through a bridge.
    Its stdout lines are collected ("editor: attached ID REV", "editor:
    patch REQUEST_ID")."""

    def __init__(self, bridge, canvas_id):
        node = shutil.which("node")
        assert node, "node not found (apt-get install nodejs npm)"
        assert os.path.isdir(os.path.join(GRAPH_DIR, "node_modules", "@comfyorg", "litegraph")), \
            "tests/graph/node_modules missing: cd tests/graph && npm ci"
        self.canvas_id = canvas_id
        self.lines = queue.Queue()
        self.seen = []
        self.proc = subprocess.Popen(
            [node, os.path.join(GRAPH_DIR, "editor.mjs"), "--url", "ws://127.0.0.1:%d" % bridge.port,
             "--token-file", bridge.token_file, "--object-info", OBJECT_INFO, "--canvas-id", canvas_id,
             "--no-reconnect"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=GRAPH_DIR)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode("utf-8", "replace").rstrip("\n"))

    def wait(self, prefix, timeout=30):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, "editor: %r not seen; got %s" % (prefix, self.seen[-20:])
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def patches(self):
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                break
        return [l for l in self.seen if l.startswith("editor: patch ") and "failed" not in l]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def post(br, path, body):
    st, _, raw = br.http("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return st, json.loads(raw or b"{}")


def get_graph(br, canvas_id):
    st, body = post(br, "/comfy/graph/command", {"type": "get_graph", "canvas_id": canvas_id})
    assert st == 200, body
    return body


def nodes_of(body):
    g = body.get("graph", {})
    wf = g.get("workflow_json") or g.get("workflow")
    if isinstance(wf, str):
        wf = json.loads(wf)
    if wf and "nodes" in wf:
        return wf["nodes"]
    return g.get("nodes", [])


def wait_registered(br, canvas_id, timeout=10):
    """A command through the other bridge finds the canvas once core A's
    registry row is written (its writer thread does that right after the
    attachment)."""
    end = time.monotonic() + timeout
    while True:
        st, body = post(br, "/comfy/graph/command", {"type": "get_graph", "canvas_id": canvas_id})
        if st == 200:
            return body
        assert time.monotonic() < end, "canvas %s not reachable through the other core: %s %s" % (
            canvas_id, st, body)
        time.sleep(0.05)


def health_until(br, pred, timeout=10):
    """/healthz once pred holds (the core's health is polled every second)."""
    end = time.monotonic() + timeout
    while True:
        st, _, raw = br.http("GET", "/healthz", token=False)
        h = json.loads(raw)
        if pred(h):
            return h
        assert time.monotonic() < end, "healthz never satisfied: %s %s" % (st, h)
        time.sleep(0.1)


def metric(br, name):
    st, _, raw = br.http("GET", "/metrics")
    assert st == 200
    for line in raw.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise AssertionError("%s not in /metrics" % name)


def metric_until(br, name, at_least, timeout=10):
    end = time.monotonic() + timeout
    while True:
        v = metric(br, name)
        if v >= at_least or time.monotonic() > end:
            return v
        time.sleep(0.1)


def test_graph_commands_reach_a_tab_on_another_core(comfyd_factory):
    oi = ["--object-info", OBJECT_INFO]
    a = comfyd_factory(start=False, extra=oi, env=LEASE_ENV)
    uri = pg_store_for(a.data)
    b = comfyd_factory(start=False, extra=oi + ["--store", uri], env=LEASE_ENV)
    a.start()
    b.start()
    br_a, br_b = Bridge(a), Bridge(b)
    cid = "tab-across-cores"
    ed = Editor(br_a, cid)
    ed2 = None
    try:
        ed.wait("editor: attached %s" % cid)
        wait_registered(br_b, cid)

        # A command through bridge B: core B forwards it to core A, whose tab
        # applies it; the answer (node id, new revision) comes back through B.
        cmd = {"type": "create_node", "node_type": "KSampler", "x": 10, "y": 20, "canvas_id": cid,
               "idempotency_key": "across-1"}
        st, r1 = post(br_b, "/comfy/graph/command", cmd)
        assert st == 200 and r1.get("ok"), r1
        assert r1.get("canvas_id") == cid, r1
        assert not r1.get("replayed"), r1
        assert len(ed.patches()) == 1, "the tab on core A got the patch: %s" % ed.seen
        # get_graph through B reads A's mirror, through A the same.
        gb, ga = get_graph(br_b, cid), get_graph(br_a, cid)
        assert [n["type"] for n in nodes_of(gb)] == ["KSampler"], gb
        assert nodes_of(gb) == nodes_of(ga)
        assert int(gb["graph"]["revision"]) == int(r1["revision"]) == int(ga["graph"]["revision"])

        # The caller retries through A (the holder) and through B again: the
        # stored answer, not a second node.
        for br in (br_a, br_b):
            st, again = post(br, "/comfy/graph/command", cmd)
            assert st == 200 and again.get("replayed") is True, again
            same = {k: v for k, v in again.items() if k != "replayed"}
            assert same == {k: v for k, v in r1.items() if k != "replayed"}, (again, r1)
        assert len(ed.patches()) == 1, "a retried key is never applied again: %s" % ed.seen
        assert len(nodes_of(get_graph(br_b, cid))) == 1

        # The same key with another request is refused, through either core.
        st, bad = post(br_b, "/comfy/graph/command", dict(cmd, node_type="VAEDecode"))
        assert st == 409 and "IDEMPOTENCY_KEY_REUSED" in json.dumps(bad), (st, bad)

        # Bridge B's /healthz names the store and core A as a reachable peer;
        # its /metrics counts the commands core B forwarded.
        hz = health_until(br_b, lambda h: h["peers"]["reachable"] == 1)
        assert hz["status"] == "ok" and hz["core"] == "ready", hz
        assert hz["store"] == {"engine": "postgres", "reachable": True}, hz
        assert hz["peers"] == {"live": 1, "reachable": 1}, hz
        # /metrics (with the token) names them.
        st, _, raw = br_b.http("GET", "/metrics")
        peers = [l for l in raw.decode().splitlines() if l.startswith("comfyd_bridge_core_peer_up{")]
        assert len(peers) == 1 and 'address="%s"' % a.unix_target in peers[0] and peers[0].endswith(" 1"), peers
        fwd = metric_until(br_b, "comfyd_bridge_core_forwarded_commands_total", 4)
        assert fwd >= 4
        assert metric(br_a, "comfyd_bridge_core_forwarded_commands_total") == 0, \
            "core A holds the canvas: it forwards nothing"

        # A canvas nobody holds is CANVAS_NOT_FOUND through B, not a hang.
        st, nf = post(br_b, "/comfy/graph/command", {"type": "get_graph", "canvas_id": "nobody"})
        assert st == 404 and "CANVAS_NOT_FOUND" in json.dumps(nf), (st, nf)

        # The holder dies: a command through B gets a clear error at once.
        ed.stop()
        ed = Editor(br_a, cid)
        ed.wait("editor: attached %s" % cid)
        wait_registered(br_b, cid)
        a.kill9()
        t0 = time.monotonic()
        st, dead = post(br_b, "/comfy/graph/command",
                        {"type": "create_node", "node_type": "VAEDecode", "canvas_id": cid})
        took = time.monotonic() - t0
        assert st == 503 and "EDITOR_GONE" in json.dumps(dead), (st, dead)
        assert "cannot be reached" in json.dumps(dead), dead
        assert took < DEAD_HOLDER_S, "answered in %.1f s" % took
        ed.stop()
        # Bridge B's /healthz: core A unreachable, then gone once its row
        # expired; the store is still fine, so B is healthy.
        hz = health_until(br_b, lambda h: h["peers"]["reachable"] == 0)
        assert hz["status"] == "ok", hz
        health_until(br_b, lambda h: h["peers"]["live"] == 0, timeout=LEASE_MS / 1000 * 3 + 5)

        # The tab re-attaches through bridge B (core B): commands work there,
        # through either bridge once bridge A is on core B too.
        ed2 = Editor(br_b, cid)
        ed2.wait("editor: attached %s" % cid)
        # The key core A answered is in the shared store: a retry through
        # core B, now the holder, gets A's answer and nothing is applied.
        st, again = post(br_b, "/comfy/graph/command", cmd)
        assert st == 200 and again.get("replayed") is True, again
        assert {k: v for k, v in again.items() if k != "replayed"} == \
            {k: v for k, v in r1.items() if k != "replayed"}
        assert ed2.patches() == [] and nodes_of(get_graph(br_b, cid)) == []
        st, r2 = post(br_b, "/comfy/graph/command",
                      {"type": "create_node", "node_type": "VAEDecode", "canvas_id": cid,
                       "idempotency_key": "across-2"})
        assert st == 200 and r2.get("ok"), r2
        assert int(r2["revision"]) > int(r1["revision"]), (r1, r2)
        assert len(ed2.patches()) == 1
        # A's registry row is gone within the lease lifetime and a sweep.
        time.sleep((LEASE_MS + LEASE_MS / 3) / 1000 + 0.5)
        assert [n["type"] for n in nodes_of(get_graph(br_b, cid))] == ["VAEDecode"]
    finally:
        ed.stop()
        if ed2:
            ed2.stop()
        stop_bridge(br_b)
        br_a.proc.kill()
        br_a.proc.wait()
        br_a.log.close()
