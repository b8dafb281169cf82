// The tab reports what a patch or a user edit changed (a delta with the
// digest of its whole graph) instead of the workflow (docs/graph-delta.md):
// the mirror follows it exactly, the digests of the real LiteGraph and the
// core agree, and a wrong delta is never taken: the core asks for the whole
// workflow and the caller still gets the verified answer.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectOk, expectGraphOk } from "../lib/harness.mjs";
import { post, get } from "../lib/clients.mjs";
import { txt2imgCommands, assertSameGraph } from "../lib/graph.mjs";
import { graphDigest } from "../../../web/src/executor/delta.js";

const CANVAS = "tab-delta:txt2img";

describe("graph deltas", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;
  const graphOf = async () =>
    expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS })).graph;

  it("every kind of command travels as a delta and the mirror follows the tab without a resync", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "deltas" });
    const sent = [];
    ed.on("message", (m) => m.type === "resync" && sent.push(m));
    const s = h.stack;
    const r = expectGraphOk(await post(s, "/comfy/graph/batch", { canvas_id: CANVAS, commands: txt2imgCommands() }));
    refs = r.refs;
    assertSameGraph(await graphOf(), ed);
    const ks = Number(refs.sampler);
    const steps = [
      { type: "move_node", node_id: ks, x: 321.5, y: -7.25 },
      { type: "set_widget", node_id: ks, name: "steps", value: 33 },
      { type: "disconnect", node_id: ks, slot: "negative" },
      { type: "connect", from_id: Number(refs.neg), from_slot: 0, to_id: ks, to_slot: "negative" },
      // Replaces the link into positive: the old link's source changes too.
      { type: "connect", from_id: Number(refs.neg), from_slot: 0, to_id: ks, to_slot: "positive" },
      { type: "create_node", node_type: "VAEDecode" },
      { type: "remove_node", node_id: Number(refs.decode) },
    ];
    for (const c of steps) {
      const body = expectGraphOk(await post(s, "/comfy/graph/command", { canvas_id: CANVAS, ...c }));
      assert.equal(body.ok, true, JSON.stringify(body));
      assertSameGraph(await graphOf(), ed, c.type);
    }
    expectGraphOk(await post(s, "/comfy/graph/command", { canvas_id: CANVAS, type: "arrange" }));
    assertSameGraph(await graphOf(), ed, "arrange");
    assert.equal(ed.resyncs, 0, "the tab's digests and the core's agree");
    assert.equal(sent.length, 0);
    // Every one of those answers was a delta, not the workflow.
    const patches = ed.patches.length;
    assert.ok(patches >= steps.length + 2);
  });

  it("the workflow the core saves from a mirror kept by deltas loads back the same graph", async () => {
    const s = h.stack;
    expectOk(await post(s, "/comfy/graph/save", { canvas_id: CANVAS, name: "delta-kept", overwrite: true }));
    const before = await graphOf();
    expectGraphOk(await post(s, "/comfy/graph/command", { canvas_id: CANVAS, type: "clear_graph" }));
    assert.equal((await graphOf()).nodes?.length ?? 0, 0);
    expectOk(await post(s, "/comfy/graph/load", { canvas_id: CANVAS, name: "delta-kept" }));
    const after = await graphOf();
    assertSameGraph(after, ed);
    assert.equal(after.nodes.length, before.nodes.length);
    assert.equal(ed.resyncs, 0);
  });

  it("a delta with a wrong digest is refused: the core asks for the whole workflow and still answers", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    ed.opts.corruptDelta = (d) => {
      d.digest = ((parseInt(d.digest, 16) ^ 1) >>> 0).toString(16).padStart(8, "0");
    };
    try {
      const resync = new Promise((resolve) => ed.once("resync", resolve));
      const body = expectGraphOk(
        await post(s, "/comfy/graph/command", { canvas_id: CANVAS, type: "move_node", node_id: ks, x: 99, y: 98 }),
      );
      const msg = await resync;
      assert.notEqual(Number(msg.request_id ?? 0), 0, "the resync names the patch");
      assert.equal(body.ok, true);
      assert.deepEqual(body.result.node.pos, { x: 99, y: 98 });
      assert.equal(ed.resyncs, 1);
      assertSameGraph(await graphOf(), ed);
      // A user edit with a wrong digest: the core asks again, the tab sends
      // its workflow, and the mirror has the edit.
      const again = new Promise((resolve) => ed.once("resync", resolve));
      await ed.userEdit((g) => {
        g.getNodeById(ks).pos = [5, 6];
      });
      const m2 = await again;
      assert.equal(Number(m2.request_id ?? 0), 0);
      for (let i = 0; i < 50; i++) {
        const n = (await graphOf()).nodes.find((x) => Number(x.id) === ks);
        if (n.pos.x === 5 && n.pos.y === 6) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assertSameGraph(await graphOf(), ed);
      assert.equal(ed.resyncs, 2);
    } finally {
      ed.opts.corruptDelta = null;
    }
  });

  it("a delta that leaves out a node it changed is caught by the digest", async () => {
    const s = h.stack;
    const ks = Number(refs.sampler);
    ed.opts.corruptDelta = (d) => {
      d.nodes_json = [];
    };
    try {
      const body = expectGraphOk(
        await post(s, "/comfy/graph/command", { canvas_id: CANVAS, type: "move_node", node_id: ks, x: 700, y: 701 }),
      );
      assert.deepEqual(body.result.node.pos, { x: 700, y: 701 });
      assert.equal(ed.resyncs, 3);
      assertSameGraph(await graphOf(), ed);
      const list = expectOk(await get(s, "/comfy/graph/canvases"));
      assert.ok(list.canvases.some((c) => c.canvas_id === CANVAS));
    } finally {
      ed.opts.corruptDelta = null;
    }
  });

  it("the digest of the tab's graph is the one the core computes (a correct user edit is taken as is)", async () => {
    const ks = Number(refs.sampler);
    const rev = await ed.userEdit((g) => {
      g.getNodeById(ks).pos = [11.125, 12.5];
    });
    assert.ok(Number(rev) > 0);
    assertSameGraph(await graphOf(), ed);
    assert.equal(ed.resyncs, 3);
    assert.match(graphDigest(ed.graph), /^[0-9a-f]{8}$/);
  });
});
