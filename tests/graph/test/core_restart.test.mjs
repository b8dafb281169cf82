// The core goes away under a running bridge: every endpoint but /healthz
// and /metrics answers 503 with a clear body, and once the core is back
// everything works again without restarting the bridge; the editor
// re-attaches its canvas and the mirror is rebuilt from it.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectOk, expectGraphOk } from "../lib/harness.mjs";
import { post, get, GraphWs } from "../lib/clients.mjs";
import { txt2imgCommands, assertSameGraph } from "../lib/graph.mjs";
import { waitFor, STORE_ENGINE } from "../lib/stack.mjs";

const CANVAS = "tab-restart";
const GUARD_MS = 30000;

describe("core restart under a running bridge", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  async function expectUnavailable(what) {
    const s = h.stack;
    const checks = [
      post(s, "/comfy/graph/command", { type: "get_graph" }),
      post(s, "/comfy/graph/batch", { commands: [{ type: "create_node", node_type: "KSampler" }] }),
      get(s, "/comfy/graph/canvases"),
      get(s, "/comfy/graph/node_types?query=ksampler", { h2: true }),
    ];
    for (const r of await Promise.all(checks)) {
      assert.equal(r.status, 503, `${what}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.match(r.json?.error ?? "", /^core unavailable/, `${what}: body ${r.text.slice(0, 200)}`);
    }
    const hz = await get(s, "/healthz");
    assert.equal(hz.status, 503, `${what}: /healthz ${hz.status}`);
    const m = await get(s, "/metrics");
    assert.equal(m.status, 200, `${what}: /metrics ${m.status}`);
    assert.ok(s.bridge.alive(), `${what}: the bridge is still running`);
  }

  async function backAgain(what) {
    const s = h.stack;
    await waitFor(() => s.healthy(), GUARD_MS, `${what}: /healthz 200 again`);
    // The editor re-attaches (a new "attached") and the canvas answers.
    await waitFor(
      async () => {
        const r = await post(s, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS });
        return r.status === 200 && r.json.graph && r.json.graph.stale !== true;
      },
      GUARD_MS,
      `${what}: canvas attached again`,
    );
    const g = expectGraphOk(await post(s, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS }));
    assertSameGraph(g.graph, ed, `${what}: rebuilt mirror`);
    const ks = Number(refs.sampler);
    const v = 100 + s.coreStarts;
    expectGraphOk(await post(s, "/comfy/graph/command", { type: "set_widget", node_id: ks, name: "steps", value: v }));
    assert.equal(ed.widgetsOf(ks).steps, v);
  }

  it("setup: an editor with the txt2img workflow, re-attaching when its socket ends", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, reconnect: true });
    refs = expectGraphOk(await post(h.stack, "/comfy/graph/batch", { commands: txt2imgCommands() })).refs;
    // The core's own health (polled every second): its store (the engine the
    // suite runs on), no peers (one core).
    let hz;
    for (let i = 0; i < 50; i++) {
      hz = expectOk(await get(h.stack, "/healthz"));
      if (hz.store.engine !== "unknown") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(hz.status, "ok");
    assert.equal(hz.core, "ready");
    assert.deepEqual(hz.store, { engine: STORE_ENGINE, reachable: true });
    assert.deepEqual(hz.peers, { live: 0, reachable: 0 });
    const m = await get(h.stack, "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.text, /^# (HELP|TYPE) /m);
  });

  it("core stopped (SIGTERM): 503 'core unavailable' everywhere but /healthz and /metrics", async () => {
    const code = await h.stack.stopCore();
    assert.equal(code, 0);
    await expectUnavailable("after SIGTERM");
    // A graph socket opened now is refused or answers with an error; it
    // never hangs.
    try {
      const gws = await GraphWs.open(h.stack);
      const a = await gws.request({ type: "get_graph" }, 10000);
      assert.equal(a.status, "error", JSON.stringify(a));
      gws.close();
    } catch (e) {
      assert.ok(e.status === 503 || /closed/.test(e.message), e.message);
    }
  });

  it("core restarted: works again without restarting the bridge, the editor re-attaches", async () => {
    const attachedBefore = ed.attachedCount;
    await h.stack.startCore();
    await backAgain("after restart");
    assert.ok(ed.attachedCount > attachedBefore, "the editor attached again");
  });

  it("core killed (SIGKILL) and restarted: the same", async () => {
    await h.stack.stopCore("SIGKILL");
    await expectUnavailable("after SIGKILL");
    await h.stack.startCore();
    await backAgain("after SIGKILL and restart");
    const list = expectOk(await get(h.stack, "/comfy/graph/canvases"));
    assert.equal(list.canvases.filter((c) => c.attached === true).length, 1, JSON.stringify(list));
  });
});
