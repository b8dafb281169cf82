import { describe, expect, it } from "vitest";
import { LiteGraph, ctxFor, fakeApp, newGraph, txt2imgBatch } from "./harness.js";
import { applyPatch, normalizeCommand } from "../../../web/src/executor/commands.js";
import { nodeById, nodesOf } from "../../../web/src/executor/graphops.js";
import { LAYOUT, arrangeNodes, layeredLayout, nodeBox, overlaps, placeClear } from "../../../web/src/executor/layout.js";
import { inUndoStep } from "../../../web/src/executor/transaction.js";

const apply = (g, commands, extra = {}) => applyPatch(ctxFor(g, extra), { commands });

/** txt2img with neither x nor y on any node. */
const unplacedTxt2img = () => txt2imgBatch().map((c) => (c.type === "create_node" ? { ...c, x: undefined, y: undefined } : c));

/** Pairs of nodes whose boxes (title included) overlap. */
function overlapping(g) {
  const boxes = nodesOf(g).map((n) => nodeBox(n, LiteGraph));
  const out = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) if (overlaps(boxes[i], boxes[j])) out.push([boxes[i].id, boxes[j].id]);
  return out;
}

/** Every link goes left to right: its source ends before its target starts. */
function linksGoRight(g) {
  const bad = [];
  for (const l of g.links.values()) {
    const a = nodeBox(nodeById(g, l.origin_id), LiteGraph);
    const b = nodeBox(nodeById(g, l.target_id), LiteGraph);
    if (!(a.x + a.w < b.x)) bad.push(`#${a.id} -> #${b.id}`);
  }
  return bad;
}

const positions = (g) => Object.fromEntries(nodesOf(g).map((n) => [n.id, [n.pos[0], n.pos[1]]]));

describe("layeredLayout (pure)", () => {
  const box = (id, w = 100, h = 50) => ({ id, w, h });

  it("puts each node one column after the furthest node that feeds it", () => {
    const { pos, layer } = layeredLayout([box("a"), box("b"), box("c"), box("d")], [["a", "b"], ["b", "c"], ["a", "c"], ["c", "d"]], { x: 10, y: 20, spacing: 30 });
    expect([...layer.values()]).toEqual([0, 1, 2, 3]);
    expect(pos.get("a")).toEqual([10, 20]);
    expect(pos.get("b")[0]).toBe(140);
    expect(pos.get("c")[0]).toBe(270);
    expect(pos.get("d")[0]).toBe(400);
  });

  it("moves a node fed by nothing to just before its first consumer", () => {
    // ckpt -> enc -> sampler <- latent: latent sits beside enc, not beside ckpt.
    const { layer } = layeredLayout([box("ckpt"), box("latent"), box("enc"), box("sampler")], [["ckpt", "enc"], ["enc", "sampler"], ["latent", "sampler"], ["ckpt", "sampler"]]);
    expect(layer.get("latent")).toBe(layer.get("enc"));
    expect(layer.get("sampler")).toBe(2);
  });

  it("orders a column to uncross links (barycenter)", () => {
    // Input order gives a -> d and b -> c crossing; the sweep swaps c and d.
    const { pos } = layeredLayout([box("a"), box("b"), box("c"), box("d")], [["a", "d"], ["b", "c"]]);
    expect(pos.get("a")[1]).toBeLessThan(pos.get("b")[1]);
    expect(pos.get("d")[1]).toBeLessThan(pos.get("c")[1]);
  });

  it("stacks a column without overlap and uses each node's own size", () => {
    const nodes = [box("s", 300, 400), box("x", 250, 120), box("y", 90, 300), box("z", 200, 80)];
    const { pos } = layeredLayout(nodes, [["s", "x"], ["s", "y"], ["s", "z"]], { spacing: 40 });
    const placed = nodes.map((b) => ({ ...b, x: pos.get(b.id)[0], y: pos.get(b.id)[1] }));
    for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) expect(overlaps(placed[i], placed[j])).toBe(false);
    // The second column starts after the widest node of the first plus the gap.
    expect(pos.get("x")[0]).toBe(340);
  });

  it("survives cycles, self loops and unknown ids, and is deterministic", () => {
    const nodes = [box(1), box(2), box(3), box(4, 80, 200)];
    const edges = [[1, 2], [2, 3], [3, 1], [2, 2], [9, 1], [3, 4]];
    const a = layeredLayout(nodes, edges);
    const b = layeredLayout(structuredClone(nodes), structuredClone(edges));
    expect([...a.pos.entries()]).toEqual([...b.pos.entries()]);
    expect(a.layer.get(1)).toBe(0);
    expect(a.layer.get(4)).toBe(3);
  });

  it("placeClear moves a box down below whatever it would land on", () => {
    const occupied = [{ x: 0, y: 0, w: 100, h: 100 }, { x: 50, y: 150, w: 100, h: 300 }, { x: 500, y: 0, w: 10, h: 10 }];
    const y = placeClear({ x: 20, y: 10, w: 60, h: 60 }, occupied, 20);
    expect(y).toBe(470);
    expect(placeClear({ x: 200, y: 10, w: 60, h: 60 }, occupied, 20)).toBe(10);
  });
});

describe("nodes created without coordinates", () => {
  it("a batch of 7 lays out left to right along its links, no two overlapping", () => {
    const g = newGraph();
    const out = apply(g, unplacedTxt2img());
    expect(out.ok).toBe(true);
    expect(nodesOf(g)).toHaveLength(7);
    expect(overlapping(g)).toEqual([]);
    expect(linksGoRight(g)).toEqual([]);
  });

  it("is deterministic", () => {
    const a = newGraph();
    const b = newGraph();
    apply(a, unplacedTxt2img());
    apply(b, unplacedTxt2img());
    expect(positions(a)).toEqual(positions(b));
  });

  it("go right of the existing nodes that feed them, on no other node", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const sampler = nodesOf(g).find((n) => n.type === "KSampler");
    const out = apply(g, [
      { type: "create_node", node_type: "VAEDecode", ref: "d2" },
      { type: "create_node", node_type: "PreviewImage", ref: "p2" },
      { type: "connect", from_id: sampler.id, from_slot: 0, to_id: "d2", to_slot: "samples" },
      { type: "connect", from_id: "d2", from_slot: 0, to_id: "p2", to_slot: 0 },
    ]);
    expect(out.ok).toBe(true);
    const d2 = nodeById(g, out.results[0].node_id);
    const p2 = nodeById(g, out.results[1].node_id);
    expect(d2.pos[0]).toBeGreaterThanOrEqual(sampler.pos[0] + sampler.size[0]);
    expect(p2.pos[0]).toBeGreaterThan(d2.pos[0] + d2.size[0]);
    expect(overlapping(g)).toEqual([]);
  });

  it("one node goes to the middle of the view when it is free, else beside the graph", () => {
    const g = newGraph();
    const view = () => [1000, 2000, 800, 600];
    const first = apply(g, [{ type: "create_node", node_type: "VAEDecode" }], { view });
    const n1 = nodeById(g, first.results[0].node_id);
    const b1 = nodeBox(n1, LiteGraph);
    expect(Math.abs(b1.x + b1.w / 2 - 1400)).toBeLessThanOrEqual(1);
    expect(Math.abs(b1.y + b1.h / 2 - 2300)).toBeLessThanOrEqual(1);
    // The view's middle is taken now: the next one goes right of the graph.
    const second = apply(g, [{ type: "create_node", node_type: "VAEDecode" }], { view });
    const n2 = nodeById(g, second.results[0].node_id);
    expect(n2.pos[0]).toBeGreaterThanOrEqual(b1.x + b1.w + LAYOUT.spacing);
    expect(overlapping(g)).toEqual([]);
  });

  it("keep explicit coordinates, and a later move_node wins", () => {
    const g = newGraph();
    const out = apply(g, [
      { type: "create_node", node_type: "VAEDecode", x: 5, y: 6 },
      { type: "create_node", node_type: "VAEDecode", ref: "m" },
      { type: "move_node", node_id: "m", x: 700, y: 800 },
    ]);
    expect(Array.from(nodeById(g, out.results[0].node_id).pos)).toEqual([5, 6]);
    expect(Array.from(nodeById(g, out.results[1].node_id).pos)).toEqual([700, 800]);
  });
});

describe("arrange", () => {
  it("checks its fields", () => {
    expect(normalizeCommand({ type: "arrange" })).toEqual({ type: "arrange", node_ids: [], x: null, y: null, spacing: null });
    expect(normalizeCommand({ arrange: { node_ids: [3, "r"], spacing: 10 } })).toMatchObject({ node_ids: [{ id: 3 }, { ref: "r" }], spacing: 10 });
    expect(() => normalizeCommand({ type: "arrange", node_ids: 3 })).toThrow(/array/);
    expect(() => normalizeCommand({ type: "arrange", spacing: -1 })).toThrow(/spacing/);
    expect(() => normalizeCommand({ type: "arrange", spacing: 1e5 })).toThrow(/spacing/);
    expect(() => normalizeCommand({ type: "arrange", node_ids: [{}] })).toThrow(/node id or a ref/);
  });

  it("lays out the whole graph left to right and leaves the agent panel alone", () => {
    const g = newGraph();
    // Everything piled on one spot.
    apply(g, txt2imgBatch().map((c) => (c.type === "create_node" ? { ...c, x: 0, y: 0 } : c)));
    const panel = LiteGraph.createNode("ComfydAgentPanel");
    panel.pos = [3000, 3000];
    g.add(panel);
    expect(overlapping(g).length).toBeGreaterThan(10);
    const out = apply(g, [{ type: "arrange", x: 100, y: 50 }], { keepOnClear: (n) => n.type === "ComfydAgentPanel" });
    expect(out.ok).toBe(true);
    expect(overlapping(g)).toEqual([]);
    expect(linksGoRight(g)).toEqual([]);
    expect(Array.from(panel.pos)).toEqual([3000, 3000]);
    const boxes = nodesOf(g).filter((n) => n !== panel).map((n) => nodeBox(n, LiteGraph));
    expect(Math.min(...boxes.map((b) => b.x))).toBe(100);
    expect(Math.min(...boxes.map((b) => b.y))).toBe(50);
    // Arranging again changes nothing.
    const before = positions(g);
    apply(g, [{ type: "arrange", x: 100, y: 50 }], { keepOnClear: (n) => n.type === "ComfydAgentPanel" });
    expect(positions(g)).toEqual(before);
  });

  it("arranges a subset and keeps it off the other nodes", () => {
    const g = newGraph();
    const out = apply(g, txt2imgBatch());
    const ids = out.results.slice(0, 7).map((r) => r.node_id);
    const [ckpt, , , , sampler, decode, save] = ids;
    const fixed = positions(g);
    const r = apply(g, [{ type: "arrange", node_ids: [sampler, decode, save], spacing: 20 }]);
    expect(r.ok).toBe(true);
    expect(overlapping(g)).toEqual([]);
    const now = positions(g);
    for (const id of ids.slice(0, 4)) expect(now[id]).toEqual(fixed[id]);
    expect(now[sampler][0]).toBeLessThan(now[decode][0]);
    expect(now[decode][0]).toBeLessThan(now[save][0]);
    expect(nodeById(g, ckpt)).toBeTruthy();
  });

  it("refuses an unknown node and changes nothing (atomic)", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const before = positions(g);
    const out = apply(g, [{ type: "arrange", node_ids: [1, 999] }]);
    expect(out.ok).toBe(false);
    expect(out.results[0].error.code).toBe("NODE_NOT_FOUND");
    expect(positions(g)).toEqual(before);
  });

  it("is one undo step of the change tracker", () => {
    const g = newGraph();
    const app = fakeApp(g);
    inUndoStep(app, () => applyPatch(ctxFor(g), { commands: txt2imgBatch() }));
    expect(app.tracker.undoQueue).toHaveLength(1);
    const built = positions(g);
    inUndoStep(app, () => applyPatch(ctxFor(g), { commands: [{ type: "arrange" }] }));
    expect(app.tracker.undoQueue).toHaveLength(2);
    expect(positions(g)).not.toEqual(built);
    app.tracker.undo();
    expect(positions(g)).toEqual(built);
  });

  it("places refs of the same patch: create without coordinates, then arrange them", () => {
    const g = newGraph();
    const out = apply(g, [
      ...unplacedTxt2img(),
      { type: "arrange", node_ids: ["ckpt", "pos", "neg", "latent", "sampler", "decode", "save"], x: 0, y: 0 },
    ]);
    expect(out.ok).toBe(true);
    expect(overlapping(g)).toEqual([]);
    expect(linksGoRight(g)).toEqual([]);
    const boxes = nodesOf(g).map((n) => nodeBox(n, LiteGraph));
    expect(Math.min(...boxes.map((b) => b.x))).toBe(0);
  });
});
