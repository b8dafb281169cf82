import { describe, expect, it } from "vitest";
import { LGraph, ctxFor, newGraph, txt2imgBatch } from "./harness.js";
import { applyPatch } from "../../../web/src/executor/commands.js";
import { graphDelta, graphDigest, graphIds } from "../../../web/src/executor/delta.js";

const apply = (g, commands) => applyPatch(ctxFor(g), { commands });

/** The workflow after a delta, as the core builds its mirror: nodes and
 * links replaced, added or removed by id. */
function applyDelta(wf, d) {
  const out = structuredClone(wf);
  const gone = new Set(d.removed_node_ids);
  const changed = d.nodes_json.map((s) => JSON.parse(s));
  const ids = new Set(changed.map((n) => n.id));
  out.nodes = out.nodes.filter((n) => !gone.has(n.id) && !ids.has(n.id)).concat(changed);
  const lgone = new Set(d.removed_link_ids);
  const links = d.links_json.map((s) => JSON.parse(s));
  const lids = new Set(links.map((l) => l[0]));
  out.links = out.links.filter((l) => !lgone.has(l[0]) && !lids.has(l[0])).concat(links);
  out.last_node_id = d.last_node_id;
  out.last_link_id = d.last_link_id;
  return out;
}

/** A workflow read as plain data, the way the core's mirror reads it (no
 * repair of slots from the link list, as LiteGraph's configure does). */
function plainGraph(wf) {
  return {
    _nodes: wf.nodes.map((n) => ({ ...n, pos: Array.isArray(n.pos) ? n.pos : [n.pos[0], n.pos[1]] })),
    _links: new Map(wf.links.map((l) => [l[0], { id: l[0], origin_id: l[1], origin_slot: l[2], target_id: l[3], target_slot: l[4] }])),
  };
}

function configured(wf) {
  const g = new LGraph();
  g.configure(structuredClone(wf));
  return g;
}

describe("graph digest and deltas", () => {
  it("the digest of a fixed graph is the one core/graph.c computes (digest_is_pinned)", () => {
    const g = {
      _nodes: [
        { id: 2, type: "B", pos: [1000, 2], mode: 4, inputs: [{ link: 1 }, { link: null }], outputs: [] },
        { id: 1, type: "Caf\u00e9\u{1F600}", pos: [10.5, -0], mode: 0, inputs: [], outputs: [{ links: [1] }] },
      ],
      _links: new Map([[1, { id: 1, origin_id: 1, origin_slot: 0, target_id: 2, target_slot: 0 }]]),
    };
    expect(graphDigest(g)).toBe("bc1ef4f9");
  });

  it("survives serialization: a graph configured from the workflow has the same digest", () => {
    const g = newGraph();
    expect(apply(g, txt2imgBatch()).ok).toBe(true);
    apply(g, [{ type: "move_node", node_id: 5, x: 100.1, y: -33.3 }]);
    expect(graphDigest(configured(g.serialize()))).toBe(graphDigest(g));
  });

  it("each command's delta turns the workflow before it into the graph after it", () => {
    const g = newGraph();
    expect(apply(g, txt2imgBatch()).ok).toBe(true);
    const steps = [
      [{ type: "move_node", node_id: 5, x: 12, y: 34 }],
      [{ type: "set_widget", node_id: 5, name: "steps", value: 9 }],
      // Replaces the link into positive: the old source's output changes.
      [{ type: "connect", from_id: 3, from_slot: 0, to_id: 5, to_slot: "positive" }],
      [{ type: "disconnect", node_id: 5, slot: "negative" }],
      [{ type: "remove_node", node_id: 6 }],
      [{ type: "create_node", node_type: "VAEDecode", x: 5, y: 5 }],
    ];
    for (const commands of steps) {
      // A copy: LiteGraph's serialize() shares the slots' link arrays.
      const before = structuredClone(g.serialize());
      const ids = graphIds(g);
      const out = apply(g, commands);
      expect(out.ok).toBe(true);
      const touched = new Set(out.results.map((r) => r.node_id).filter(Boolean));
      const d = graphDelta(g, ids, touched);
      expect(d.digest).toBe(graphDigest(g));
      expect(graphDigest(plainGraph(applyDelta(before, d)))).toBe(d.digest);
      expect(graphDigest(plainGraph(g.serialize()))).toBe(d.digest);
    }
  });

  it("a delta that leaves out a changed node does not give the digest", () => {
    const g = newGraph();
    apply(g, txt2imgBatch());
    const before = structuredClone(g.serialize());
    const ids = graphIds(g);
    apply(g, [{ type: "connect", from_id: 3, from_slot: 0, to_id: 5, to_slot: "positive" }]);
    const d = graphDelta(g, ids, new Set([5]));
    expect(d.nodes_json.length).toBeGreaterThanOrEqual(3); // the target, the new and the old source
    const partial = { ...d, nodes_json: d.nodes_json.filter((s) => JSON.parse(s).id !== 2) };
    expect(graphDigest(plainGraph(applyDelta(before, partial)))).not.toBe(d.digest);
    expect(graphDigest(plainGraph(applyDelta(before, d)))).toBe(d.digest);
  });
});

// The digest's definition written the plain way (every number through a
// Float64Array), against which the fast path for small integers is held.
function referenceDigest(graph) {
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  const lo = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
  let h = 0x811c9dc5 | 0;
  const word = (w) => (h = Math.imul(h ^ w, 0x01000193));
  const num = (x) => {
    let v = Number(x);
    if (v === 0 || !Number.isFinite(v)) v = 0;
    f[0] = v;
    word(u[lo]);
    word(u[1 - lo]);
  };
  const str = (s) => {
    const t = String(s ?? "");
    num(t.length);
    for (let i = 0; i < t.length; i++) word(t.charCodeAt(i));
  };
  const nodes = [...graph._nodes].sort((a, b) => a.id - b.id);
  num(nodes.length);
  for (const n of nodes) {
    num(n.id);
    str(n.type);
    num(n.pos?.[0] ?? 0);
    num(n.pos?.[1] ?? 0);
    num(n.mode ?? 0);
    num((n.inputs ?? []).length);
    for (const i of n.inputs ?? []) num(i?.link > 0 ? i.link : 0);
    num((n.outputs ?? []).length);
    for (const o of n.outputs ?? []) {
      const ls = (o?.links ?? []).filter((x) => x > 0);
      num(ls.length);
      for (const l of ls) num(l);
    }
  }
  const links = [...graph._links.values()].sort((a, b) => a.id - b.id);
  num(links.length);
  for (const l of links) for (const k of ["id", "origin_id", "origin_slot", "target_id", "target_slot"]) num(l[k]);
  return (h >>> 0).toString(16).padStart(8, "0");
}

describe("graphDigest's numbers", () => {
  it("small integers, their edges, negatives, -0, fractions and odd values hash as their binary64 bits", () => {
    const odd = [0, -0, 1, 2, 3, 1023, 1024, 0x1fffff, 0x200000, 0x200001, -1, -7, -0x1fffff, -0x200000, 2 ** 31, -(2 ** 31), 2 ** 53, 0.5, -2.25, 1e300, NaN, Infinity, "12", null, true];
    const nodes = odd.map((v, i) => ({
      id: i + 1,
      type: i % 2 ? "KSampler" : "é漢😀",
      pos: [v, -v],
      mode: v,
      inputs: [{ link: v }, null],
      outputs: [{ links: [v, 5, -3] }, null, { links: null }],
    }));
    const links = new Map(odd.map((v, i) => [i + 1, { id: i + 1, origin_id: v, origin_slot: i, target_id: -i, target_slot: v }]));
    const g = { _nodes: nodes, _links: links };
    expect(graphDigest(g)).toBe(referenceDigest(g));
    for (let i = 0; i < odd.length; i++) {
      const one = { _nodes: [nodes[i]], _links: new Map([[i + 1, links.get(i + 1)]]) };
      expect(graphDigest(one), `value ${String(odd[i])}`).toBe(referenceDigest(one));
    }
  });
});
