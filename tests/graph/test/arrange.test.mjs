// Layout on a live canvas: nodes created without coordinates are placed by
// the tab without overlapping, left to right along their links, and the
// arrange command lays out the whole graph or a set of nodes as one patch.
// The headless editor computes both with the tab's own module
// (web/src/executor/layout.js); the core checks the command and commits the
// positions the tab reports.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectGraphOk, expectOk, expectStatus } from "../lib/harness.mjs";
import { post, get, GraphWs } from "../lib/clients.mjs";
import { txt2imgCommands, TXT2IMG_LINKS, TXT2IMG_TYPES, assertSameGraph, nodeBox, overlappingPairs } from "../lib/graph.mjs";

const CANVAS = "tab-1:arrange";

// Every link of the editor's graph runs left to right: its source ends
// before its target begins.
function linksGoRight(ed) {
  const bad = [];
  for (const l of ed.graph.links.values()) {
    const a = nodeBox(ed.graph.getNodeById(l.origin_id));
    const b = nodeBox(ed.graph.getNodeById(l.target_id));
    if (!(a[0] + a[2] < b[0])) bad.push(`#${l.origin_id} (${a}) -> #${l.target_id} (${b})`);
  }
  return bad;
}

const positions = (ed) => Object.fromEntries(ed.graph.nodes.map((n) => [n.id, [n.pos[0], n.pos[1]]]));

describe("layout of agents' nodes and the arrange command", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  const graphNow = async () => expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS }));

  it("an editor attaches", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "arrange" });
    assert.ok(ed.revision >= 1);
  });

  it("7 nodes created without coordinates in one batch: no two overlap, x grows along every link", async () => {
    const cmds = txt2imgCommands().map((c) => {
      if (c.type !== "create_node") return c;
      const { x, y, ...rest } = c; // eslint-disable-line no-unused-vars
      return rest;
    });
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/batch", { commands: cmds, canvas_id: CANVAS }));
    refs = body.refs;
    assert.equal(ed.patches.length, 1, "one patch");
    assert.equal(ed.graph.nodes.length, 7);
    assert.deepEqual(overlappingPairs(ed.graph), []);
    assert.deepEqual(linksGoRight(ed), []);
    for (const [from, , to] of TXT2IMG_LINKS) {
      const a = ed.graph.getNodeById(Number(refs[from]));
      const b = ed.graph.getNodeById(Number(refs[to]));
      assert.ok(a.pos[0] < b.pos[0], `${from} left of ${to}`);
    }
    // The core committed the positions the tab chose, and answers with them.
    const g = await graphNow();
    assertSameGraph(g.graph, ed);
    const sampler = body.results[Object.keys(TXT2IMG_TYPES).indexOf("sampler")].node;
    const en = ed.graph.getNodeById(Number(refs.sampler));
    assert.deepEqual([sampler.pos.x, sampler.pos.y], [en.pos[0], en.pos[1]]);
  });

  it("a node connected to an existing one goes to its right, on no other node", async () => {
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/batch", {
      canvas_id: CANVAS,
      commands: [
        { type: "create_node", node_type: "PreviewImage", ref: "preview" },
        { type: "connect", from_id: Number(refs.decode), from_slot: 0, to_id: "preview", to_slot: 0 },
      ],
    }));
    const p = ed.graph.getNodeById(Number(body.refs.preview));
    const d = ed.graph.getNodeById(Number(refs.decode));
    assert.ok(p.pos[0] >= d.pos[0] + d.size[0], `preview at ${p.pos} right of decode at ${d.pos}`);
    assert.deepEqual(overlappingPairs(ed.graph), []);
    assertSameGraph((await graphNow()).graph, ed);
  });

  it("arrange of the whole graph: one patch, every node moved apart, logged as the agent's moves", async () => {
    // The user piles everything up.
    await ed.userEdit((g) => {
      for (const n of g.nodes) n.pos = [10, 10];
    });
    assert.ok(overlappingPairs(ed.graph).length > 20);
    const r0 = Number((await graphNow()).revision);
    const patches = ed.patches.length;
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "arrange", x: 50, y: 60, canvas_id: CANVAS }));
    assert.equal(ed.patches.length, patches + 1, "one patch, one undo step");
    assert.equal(ed.patches.at(-1).commands[0].type, "arrange");
    assert.ok(Number(body.revision) > r0);
    assert.deepEqual(overlappingPairs(ed.graph), []);
    assert.deepEqual(linksGoRight(ed), []);
    const boxes = ed.graph.nodes.map((n) => nodeBox(n));
    assert.equal(Math.min(...boxes.map((b) => b[0])), 50);
    assert.equal(Math.min(...boxes.map((b) => b[1])), 60);
    assertSameGraph((await graphNow()).graph, ed);
    const diff = expectOk(await get(h.stack, `/comfy/graph/diff?since=${r0}&canvas_id=${encodeURIComponent(CANVAS)}`));
    const moves = (diff.ops ?? []).filter((o) => o.command?.type === "move_node" || o.command?.move_node);
    assert.equal(moves.length, 8, JSON.stringify(diff.ops));
    for (const m of moves) assert.match(String(m.origin), /AGENT/);
  });

  it("arrange of a subset: the others stay, the subset runs left to right off them", async () => {
    const ids = ["sampler", "decode", "save"].map((r) => Number(refs[r]));
    await ed.userEdit((g) => {
      for (const id of ids) g.getNodeById(id).pos = [0, 0];
    });
    const before = positions(ed);
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "arrange", node_ids: ids, spacing: 30, canvas_id: CANVAS }));
    assert.equal(body.ok, true);
    const now = positions(ed);
    for (const [id, p] of Object.entries(before)) if (!ids.includes(Number(id))) assert.deepEqual(now[id], p, `#${id} stays`);
    assert.ok(now[ids[0]][0] < now[ids[1]][0] && now[ids[1]][0] < now[ids[2]][0], JSON.stringify(now));
    assert.deepEqual(overlappingPairs(ed.graph), []);
    assertSameGraph((await graphNow()).graph, ed);
  });

  it("arrange by refs of the same batch", async () => {
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/batch", {
      canvas_id: CANVAS,
      commands: [
        { type: "create_node", node_type: "LoadImage", ref: "img" },
        { type: "create_node", node_type: "ImageScale", ref: "scale" },
        { type: "connect", from_id: "img", from_slot: 0, to_id: "scale", to_slot: 0 },
        { type: "arrange", node_ids: ["img", "scale"], x: 5000, y: 5000 },
      ],
    }));
    const img = ed.graph.getNodeById(Number(body.refs.img));
    const scale = ed.graph.getNodeById(Number(body.refs.scale));
    assert.deepEqual(nodeBox(img).slice(0, 2), [5000, 5000]);
    assert.ok(img.pos[0] + img.size[0] < scale.pos[0]);
    assert.deepEqual(overlappingPairs(ed.graph), []);
  });

  it("arrange over WS /comfy/graph/ws, nested form and h2 too", async () => {
    await ed.userEdit((g) => {
      for (const n of g.nodes) n.pos = [0, 0];
    });
    const gws = await GraphWs.open(h.stack);
    try {
      const a = await gws.request({ type: "arrange", canvas_id: CANVAS, spacing: 80 });
      assert.equal(a.status, "ok", JSON.stringify(a));
    } finally {
      gws.close();
    }
    assert.deepEqual(overlappingPairs(ed.graph), []);
    assert.deepEqual(linksGoRight(ed), []);
    await ed.userEdit((g) => {
      for (const n of g.nodes) n.pos = [0, 0];
    });
    const r = await post(h.stack, "/comfy/graph/batch", { canvas_id: CANVAS, commands: [{ arrange: { node_ids: [] } }] }, { h2: true });
    expectGraphOk(r);
    assert.deepEqual(overlappingPairs(ed.graph), []);
    assertSameGraph((await graphNow()).graph, ed);
  });

  it("an invalid arrange is refused by the core and never reaches the tab", async () => {
    const patches = ed.patches.length;
    const before = positions(ed);
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "arrange", node_ids: [1, 9999], canvas_id: CANVAS }), 422, "NODE_NOT_FOUND");
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "arrange", spacing: -5, canvas_id: CANVAS }), 422, "INVALID_COMMAND");
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "arrange", x: 1e9, canvas_id: CANVAS }), 422, "INVALID_COMMAND");
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "arrange", node_ids: "all", canvas_id: CANVAS }), 400);
    const v = await post(h.stack, "/comfy/graph/batch", { canvas_id: CANVAS, validate_only: true, commands: [{ type: "arrange", node_ids: ["later"] }] });
    expectStatus(v, 422, "REF_NOT_FOUND");
    assert.equal(ed.patches.length, patches);
    assert.deepEqual(positions(ed), before);
  });
});
