// The canvas as a live, shared thing: edits made in the tab flow back as
// revisions and diffs, commands follow the focused tab, workflows are saved
// and loaded, and queueing returns the tab's prompt id.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe } from "node:test";
import { useStack, itWithLogs, expectOk, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post, get, GraphWs } from "../lib/clients.mjs";
import { txt2imgCommands, assertSameGraph } from "../lib/graph.mjs";
import { REPO } from "../lib/stack.mjs";

const A = "tab-a:txt2img";
const B = "tab-b:scratch";

function originName(o) {
  return String(o ?? "").replace(/^GRAPH_ORIGIN_/, "");
}

describe("live canvas", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let a;
  let b;
  let refs;

  const graphOf = async (canvasId) =>
    expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: canvasId }));

  it("two editors attached, neither focused: a command without canvas_id is 409 AMBIGUOUS_CANVAS", async () => {
    a = await h.stack.editor({ canvasId: A, focused: false });
    b = await h.stack.editor({ canvasId: B, focused: false });
    const body = expectStatus(
      await post(h.stack, "/comfy/graph/command", { type: "create_node", node_type: "KSampler" }),
      409,
      "AMBIGUOUS_CANVAS",
    );
    assert.match(body.error + JSON.stringify(body.errors ?? []), /tab-a|tab-b/);
    assert.equal(a.patches.length + b.patches.length, 0);
  });

  it("commands without canvas_id follow the most recently focused editor", async () => {
    const s = h.stack;
    await b.focus(true);
    let r = expectGraphOk(await post(s, "/comfy/graph/command", { type: "create_node", node_type: "VAEDecode", x: 1, y: 2 }));
    assert.equal(r.canvas_id, B);
    assert.equal(b.graph.nodes.length, 1);
    assert.equal(a.graph.nodes.length, 0);
    await a.focus(true);
    r = expectGraphOk(await post(s, "/comfy/graph/batch", { commands: txt2imgCommands() }));
    assert.equal(r.canvas_id, A);
    refs = r.refs;
    assert.equal(a.graph.nodes.length, 7);
    assert.equal(b.graph.nodes.length, 1);
    const list = expectOk(await get(s, "/comfy/graph/canvases"));
    assert.equal(list.canvases[0].canvas_id, A, "most recently focused first");
    assert.equal(list.canvases[0].focused, true);
    assert.equal(Number(list.canvases[0].node_count), 7);
    await b.focus(true);
    r = expectGraphOk(await post(s, "/comfy/graph/command", { type: "get_graph" }));
    assert.equal(r.graph.canvas_id, B);
    await a.focus(true);
  });

  it("a user edit in the editor bumps the revision and shows up in GET /comfy/graph/diff", async () => {
    const s = h.stack;
    const r0 = Number((await graphOf(A)).revision);
    const ks = Number(refs.sampler);
    const acked = await a.userEdit((g, applier) => {
      const n = g.getNodeById(ks);
      n.pos = [777, 333];
      applier.setWidget(n, "steps", 12);
    });
    assert.ok(Number(acked) > r0, `acked revision ${acked} after ${r0}`);
    const diff = expectOk(await get(s, `/comfy/graph/diff?since=${r0}&canvas_id=${encodeURIComponent(A)}`));
    assert.equal(Number(diff.from_revision ?? 0), r0);
    assert.equal(Number(diff.to_revision), Number(acked));
    assert.notEqual(diff.truncated, true);
    const ops = diff.ops ?? [];
    assert.ok(ops.length >= 2, JSON.stringify(diff));
    for (const op of ops) assert.equal(originName(op.origin), "USER", JSON.stringify(op));
    const move = ops.find((o) => o.command?.type === "move_node" || o.command?.move_node);
    const set = ops.find((o) => o.command?.type === "set_widget" || o.command?.set_widget);
    assert.ok(move && set, `move and set ops: ${JSON.stringify(ops)}`);
    const mv = move.command.move_node ?? move.command;
    assert.equal(Number(mv.node_id), ks);
    assert.deepEqual([mv.x, mv.y], [777, 333]);
    const sw = set.command.set_widget ?? set.command;
    assert.equal(sw.name, "steps");
    assert.equal(Number(sw.value), 12);
    assert.ok(ops.every((o) => typeof o.summary === "string" && o.summary.length > 0));
    // The mirror follows the tab.
    assertSameGraph((await graphOf(A)).graph, a);
    // An agent that read before the edit is now stale.
    expectStatus(
      await post(s, "/comfy/graph/command", {
        type: "set_widget", node_id: ks, name: "steps", value: 30, base_revision: r0, canvas_id: A,
      }),
      409,
      "STALE_REVISION",
    );
    // An agent's own change shows up with origin AGENT.
    const r1 = Number(acked);
    expectGraphOk(await post(s, "/comfy/graph/command", { type: "move_node", node_id: ks, x: 1, y: 1, canvas_id: A }));
    const d2 = expectOk(await get(s, `/comfy/graph/diff?since=${r1}&canvas_id=${encodeURIComponent(A)}`));
    assert.deepEqual(d2.ops.map((o) => originName(o.origin)), ["AGENT"]);
  });

  it("WS get_graph: readers of one revision share its encoding, and a new revision is read whole", async () => {
    const s = h.stack;
    const gws = await GraphWs.open(s);
    try {
      const read = async () => {
        const m = await gws.request({ type: "get_graph", canvas_id: A });
        assert.equal(m.status, "ok", JSON.stringify(m));
        return m.data.graph;
      };
      const first = await read();
      const again = await read(); // answered from the bridge's copy of this revision
      assert.equal(again.unchanged, false);
      assert.equal(again.revision, first.revision);
      assert.deepEqual(again, first);
      assert.equal(again.nodes.length, 7);
      assertSameGraph(again, a);
      // The tab changes the canvas: the next reader gets the new revision,
      // never the kept one.
      const ks = Number(refs.sampler);
      await a.userEdit((g) => {
        g.getNodeById(ks).pos = [4242, 2424];
      });
      const after = await read();
      assert.ok(Number(after.revision) > Number(first.revision));
      assert.deepEqual(after.nodes.find((n) => Number(n.id) === ks).pos, { x: 4242, y: 2424 });
      assertSameGraph(after, a);
      // The same as the HTTP answer, which encodes the whole graph.
      assert.deepEqual(after, (await graphOf(A)).graph);
      // A client may name the revision it holds itself: unchanged, no nodes.
      const m = await gws.request({ type: "get_graph", canvas_id: A, known_revision: after.revision });
      assert.equal(m.data.graph.unchanged, true, JSON.stringify(m));
      assert.equal((m.data.graph.nodes ?? []).length, 0);
    } finally {
      gws.close?.();
    }
  });

  it("queue returns the prompt id the editor's queue gave", async () => {
    const s = h.stack;
    const body = expectOk(await post(s, "/comfy/graph/queue", { canvas_id: A, batch_count: 2 }));
    assert.equal(a.queued.length, 1);
    assert.equal(body.prompt_id, a.queued[0].prompt_id);
    assert.equal(Number(body.number ?? 0), a.queued[0].number);
    assert.equal(a.queued[0].batch_count, 2);
    assert.equal(a.queued[0].workflow.nodes.length, 7);
    // Without canvas_id: the focused tab; an idempotent retry queues once.
    const q1 = expectOk(await post(s, "/comfy/graph/queue", { idempotency_key: "q-1" }));
    const q2 = expectOk(await post(s, "/comfy/graph/queue", { idempotency_key: "q-1" }));
    assert.equal(q1.prompt_id, a.queued[1].prompt_id);
    assert.equal(q2.prompt_id, q1.prompt_id);
    assert.equal(q2.replayed, true);
    assert.equal(a.queued.length, 2);
    // Over h2 too.
    const r = await post(s, "/comfy/graph/queue", { canvas_id: A }, { h2: true });
    assert.equal(r.httpVersion, "2");
    assert.equal(expectOk(r).prompt_id, a.queued[2].prompt_id);
  });

  it("save and load round trip: the saved workflow comes back into a cleared canvas", async () => {
    const s = h.stack;
    const saved = JSON.stringify(a.serialize());
    const sv = expectOk(await post(s, "/comfy/graph/save", { name: "txt2img it", canvas_id: A }));
    assert.equal(sv.name, "txt2img it");
    assert.ok(Number(sv.bytes) > 0);
    const wl = expectOk(await get(s, "/comfy/graph/workflows"));
    assert.ok(wl.workflows.some((w) => w.name === "txt2img it" && Number(w.bytes) === Number(sv.bytes)), JSON.stringify(wl));
    // Taken names need overwrite.
    const again = await post(s, "/comfy/graph/save", { name: "txt2img it", canvas_id: A });
    const body = expectStatus(again, 409);
    assert.equal(body.code, "ALREADY_EXISTS");
    expectOk(await post(s, "/comfy/graph/save", { name: "txt2img it", canvas_id: A, overwrite: true }));
    // Clear, then load by name.
    expectGraphOk(await post(s, "/comfy/graph/command", { type: "clear_graph", canvas_id: A }));
    assert.equal(a.graph.nodes.length, 0);
    assert.equal(((await graphOf(A)).graph.nodes ?? []).length, 0);
    const ld = expectOk(await post(s, "/comfy/graph/load", { name: "txt2img it", canvas_id: A }));
    assert.equal(Number(ld.node_count), 7);
    assert.equal(a.loads.length, 1);
    assert.equal(a.graph.nodes.length, 7);
    assert.equal(a.graph.links.size, 9);
    const afterLoad = a.serialize();
    assert.deepEqual(
      afterLoad.nodes.map((n) => [n.id, n.type, n.widgets_values]),
      JSON.parse(saved).nodes.map((n) => [n.id, n.type, n.widgets_values]),
    );
    const g = await graphOf(A);
    assert.equal(Number(g.revision), Number(ld.revision));
    assertSameGraph(g.graph, a);
  });

  it("load of a workflow given inline (ComfyUI's own txt2img file)", async () => {
    const s = h.stack;
    const wf = readFileSync(path.join(REPO, "tests", "fixtures", "txt2img_workflow.json"), "utf8");
    const ld = expectOk(await post(s, "/comfy/graph/load", { workflow_json: wf, canvas_id: B }));
    assert.equal(Number(ld.node_count), JSON.parse(wf).nodes.length);
    assert.equal(b.graph.nodes.length, JSON.parse(wf).nodes.length);
    assertSameGraph((await graphOf(B)).graph, b);
    const ks = b.graph.nodes.find((n) => n.type === "KSampler");
    expectGraphOk(await post(s, "/comfy/graph/command", { type: "set_widget", node_id: ks.id, name: "steps", value: 9, canvas_id: B }));
    assert.equal(b.widgetsOf(ks.id).steps, 9);
  });

  it("names that leave the workflow directory are 400 INVALID_NAME and write nothing", async () => {
    const s = h.stack;
    for (const name of ["../../etc/passwd", "../escape", "a/b", "..", "/abs", "x\\y", ""]) {
      const r = await post(s, "/comfy/graph/save", { name, canvas_id: A });
      expectStatus(r, 400, "INVALID_NAME");
      const l = await post(s, "/comfy/graph/load", { name, canvas_id: A });
      expectStatus(l, 400, name === "" ? undefined : "INVALID_NAME");
    }
    assert.equal(existsSync(path.join(s.root, "etc")), false);
    assert.equal(existsSync(path.join(s.root, "escape")), false);
    assert.equal(existsSync(path.join(s.root, "escape.json")), false);
    expectStatus(await post(s, "/comfy/graph/load", { name: "never saved", canvas_id: A }), 404, "WORKFLOW_NOT_FOUND");
    // The canvas is untouched.
    assert.equal(a.graph.nodes.length, 7);
  });

  it("WS /comfy/graph/ws answers every request type of the protocol", async () => {
    const s = h.stack;
    const gws = await GraphWs.open(s);
    try {
      const ok = async (msg) => {
        const a = await gws.request(msg);
        assert.equal(a.status, "ok", `${msg.type}: ${JSON.stringify(a).slice(0, 400)}`);
        return a.data;
      };
      const canvases = await ok({ type: "canvases" });
      assert.ok(canvases.canvases.some((c) => c.canvas_id === A));
      const types = await ok({ type: "node_types", names: ["KSampler"] });
      assert.equal(types.node_types[0].name, "KSampler");
      const wl = await ok({ type: "workflows" });
      assert.ok(wl.workflows.some((w) => w.name === "txt2img it"));
      const rev = Number((await graphOf(A)).revision);
      const ks = a.graph.nodes.find((n) => n.type === "KSampler").id;
      await ok({ type: "move_node", node_id: ks, x: 42, y: 43, canvas_id: A });
      const diff = await ok({ type: "diff", canvas_id: A, since_revision: rev });
      assert.equal(diff.ops.length, 1);
      const q = await ok({ type: "queue", canvas_id: A });
      assert.equal(q.prompt_id, a.queued.at(-1).prompt_id);
      const sv = await ok({ type: "save", canvas_id: A, name: "ws save", overwrite: true });
      assert.equal(sv.name, "ws save");
      const ld = await ok({ type: "load", canvas_id: A, name: "ws save" });
      assert.equal(Number(ld.node_count), 7);
      const bad = await gws.request({ type: "save", canvas_id: A, name: "../x" });
      assert.equal(bad.status, "error");
      assert.equal(bad.code, "INVALID_NAME");
    } finally {
      gws.close();
    }
  });

  it("an editor that closes its tab leaves a stale mirror that still answers get_graph", async () => {
    const s = h.stack;
    await b.close();
    const g = await (async () => {
      for (let i = 0; i < 200; i++) {
        const r = await graphOf(B);
        if (r.graph.stale === true) return r;
        await new Promise((res) => setTimeout(res, 25));
      }
      return graphOf(B);
    })();
    assert.equal(g.graph.stale, true);
    assert.ok((g.graph.nodes ?? []).length > 0);
    expectStatus(await post(s, "/comfy/graph/command", { type: "clear_graph", canvas_id: B }), 409, "NO_LIVE_CANVAS");
    // Without canvas_id the remaining tab answers.
    const r = expectGraphOk(await post(s, "/comfy/graph/command", { type: "get_graph" }));
    assert.equal(r.graph.canvas_id, A);
  });
});
