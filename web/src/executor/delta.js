import { workflowSignature } from "./graphops.js";

// What a patch changed, for the core, instead of the whole workflow
// (docs/graph-delta.md): the nodes and links it touched, the ones it
// removed, LiteGraph's id counters and a digest of the whole graph. The
// core applies the delta to its mirror and compares the digests; when they
// differ it asks for the whole workflow (a "resync"), so a delta that
// misses a change never goes unnoticed.

// A number's bits through typed arrays (faster than a DataView); the
// words are taken low first whatever the platform's byte order.
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

// ids in ascending order: the graph's own order when it already is (the
// usual case), else a sorted copy.
function byId(list) {
  for (let i = 1; i < list.length; i++) if (list[i - 1].id > list[i].id) return [...list].sort((a, b) => a.id - b.id);
  return list;
}

function linkList(graph) {
  const links = graph._links ?? graph.links;
  if (!links) return [];
  const values = typeof links.values === "function" && !Array.isArray(links) ? links.values() : Object.values(links);
  return [...values].filter((l) => l && l.id != null);
}

// FNV-1a over 32-bit words: node count; per node in id order its id,
// type, pos x and y, mode, its inputs' links, its outputs' links; link
// count; per link in id order its id and ends. Numbers are their IEEE-754
// binary64 bits (low word first, -0 as 0), strings their length and UTF-16
// code units. core/graph.c computes the same from its mirror.
//
// It runs over the whole graph after every patch (a 500-node canvas), so
// the loop keeps the hash in a local and takes the bits of a small integer
// (ids, slots, counts: most of the words) by arithmetic, without the
// typed-array round trip and without allocating.
const FNV = 0x01000193;

// The high word of a small integer's binary64 bits (its low word is 0):
// |k| < 2^21, k != 0.
function intHi(k) {
  const a = k < 0 ? -k : k;
  const e = 31 - Math.clz32(a);
  return (k < 0 ? 0x80000000 : 0) | ((1023 + e) << 20) | ((a - (1 << e)) << (20 - e));
}

// The hash after one number.
function hashNum(h, x) {
  let v = typeof x === "number" ? x : Number(x);
  if (v === (v | 0) && v > -0x200000 && v < 0x200000) {
    // A small integer (or 0, -0): low word 0.
    h = Math.imul(h, FNV); // h ^ 0
    return Math.imul(h ^ (v === 0 ? 0 : intHi(v)), FNV);
  }
  if (v === 0 || !Number.isFinite(v)) v = 0;
  F64[0] = v;
  h = Math.imul(h ^ U32[LO], FNV);
  return Math.imul(h ^ U32[1 - LO], FNV);
}

function hashStr(h, s) {
  const t = typeof s === "string" ? s : String(s ?? "");
  h = hashNum(h, t.length);
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), FNV);
  return h;
}

export function graphDigest(graph) {
  let h = 0x811c9dc5 | 0;
  const nodes = byId(graph._nodes ?? graph.nodes ?? []);
  h = hashNum(h, nodes.length);
  for (const n of nodes) {
    h = hashNum(h, n.id);
    h = hashStr(h, n.type);
    const pos = n.pos;
    h = hashNum(h, pos?.[0] ?? 0);
    h = hashNum(h, pos?.[1] ?? 0);
    h = hashNum(h, n.mode ?? 0);
    const ins = n.inputs ?? [];
    h = hashNum(h, ins.length);
    for (let i = 0; i < ins.length; i++) {
      const l = ins[i]?.link;
      h = hashNum(h, l > 0 ? l : 0);
    }
    const outs = n.outputs ?? [];
    h = hashNum(h, outs.length);
    for (let i = 0; i < outs.length; i++) {
      const ls = outs[i]?.links ?? [];
      let k = 0;
      for (let j = 0; j < ls.length; j++) if (ls[j] > 0) k++;
      h = hashNum(h, k);
      for (let j = 0; j < ls.length; j++) if (ls[j] > 0) h = hashNum(h, ls[j]);
    }
  }
  const links = byId(linkList(graph));
  h = hashNum(h, links.length);
  for (const l of links) {
    h = hashNum(h, l.id);
    h = hashNum(h, l.origin_id);
    h = hashNum(h, l.origin_slot);
    h = hashNum(h, l.target_id);
    h = hashNum(h, l.target_slot);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

// The ids present now: taken before a patch, to find what it removed and
// which links it made.
export function graphIds(graph) {
  return {
    nodes: new Set((graph._nodes ?? []).map((n) => n.id)),
    links: new Map(linkList(graph).map((l) => [l.id, [l.origin_id, l.target_id]])),
  };
}

function serializeLink(l) {
  if (typeof l.serialize === "function") return l.serialize();
  return [l.id, l.origin_id, l.origin_slot, l.target_id, l.target_slot, l.type];
}

// The delta from the ids before a patch and the nodes its commands
// touched (created, moved, set, connected, arranged...). Nodes at either
// end of a link made or removed are touched too (their slots changed).
export function graphDelta(graph, before, touched) {
  const nodes = new Set();
  for (const id of touched) nodes.add(id);
  // One pass over the nodes and one over the links (the graph may have
  // hundreds): what is new, and what of before is gone.
  const nowNodes = new Set();
  const added = [];
  for (const n of graph._nodes ?? []) {
    nowNodes.add(n.id);
    if (!before.nodes.has(n.id)) added.push(n.id);
  }
  const removedNodes = [...before.nodes].filter((id) => !nowNodes.has(id));
  const nowLinks = new Set();
  const newLinks = [];
  for (const l of linkList(graph)) {
    if (nowLinks.has(l.id)) continue;
    nowLinks.add(l.id);
    if (!before.links.has(l.id)) newLinks.push(l);
  }
  const removedLinks = [...before.links.keys()].filter((id) => !nowLinks.has(id));
  for (const l of newLinks) {
    nodes.add(l.origin_id);
    nodes.add(l.target_id);
  }
  for (const id of removedLinks) for (const end of before.links.get(id)) nodes.add(end);
  for (const id of added) nodes.add(id);
  const nodesJson = [];
  for (const id of nodes) {
    const n = graph.getNodeById(id);
    if (n) nodesJson.push(JSON.stringify(n.serialize()));
  }
  return {
    nodes_json: nodesJson,
    removed_node_ids: removedNodes,
    links_json: newLinks.map((l) => JSON.stringify(serializeLink(l))),
    removed_link_ids: removedLinks,
    last_node_id: graph.state?.lastNodeId ?? graph.last_node_id ?? 0,
    last_link_id: graph.state?.lastLinkId ?? graph.last_link_id ?? 0,
    digest: graphDigest(graph),
  };
}

// ---- a user's edit, from two serialised workflows ----
//
// The tab notices an edit by comparing its serialised workflow with the one
// it last reported; the delta names the nodes whose serialisation changed
// (a node's "order" aside: it follows the execution order, not an edit)
// and the links made and removed. Anything else in the workflow (groups,
// subgraph definitions, settings) has no place in a delta: when that
// changed, workflowDelta answers null and the whole workflow goes.

function linkArray(l) {
  if (Array.isArray(l)) return l;
  if (l && typeof l === "object") return [l.id, l.origin_id, l.origin_slot, l.target_id, l.target_slot, l.type];
  return null;
}

function nodeKey(n) {
  if (!n || typeof n !== "object") return JSON.stringify(n);
  const { order, ...keep } = n; // eslint-disable-line no-unused-vars
  return JSON.stringify(keep);
}

// Everything but the nodes, the links and the id counters, as the edit
// check sees it (the view and the provenance the core hands back aside).
function restKey(wf) {
  // The id counters travel in the delta ("state" holds them in the newer
  // format).
  const { nodes, links, last_node_id, last_link_id, state, ...rest } = wf; // eslint-disable-line no-unused-vars
  return workflowSignature({ ...rest, nodes: [] });
}

/** What a reported workflow was, for the next edit's delta. */
export function workflowBaseline(wf) {
  if (!wf || typeof wf !== "object" || !Array.isArray(wf.nodes)) return null;
  const nodes = new Map();
  for (const n of wf.nodes) if (n && n.id != null) nodes.set(n.id, nodeKey(n));
  const links = new Map();
  for (const l of Array.isArray(wf.links) ? wf.links : []) {
    const a = linkArray(l);
    if (a && a[0] != null) links.set(a[0], JSON.stringify(a));
  }
  return { nodes, links, rest: restKey(wf) };
}

/** The delta from the baseline to wf (the graph gives the digest), or
 * null when the change is not one a delta can carry. */
export function workflowDelta(base, wf, graph) {
  if (!base) return null;
  const now = workflowBaseline(wf);
  if (!now || now.rest !== base.rest) return null;
  const nodesJson = [];
  for (const n of wf.nodes) {
    if (!n || n.id == null) continue;
    if (base.nodes.get(n.id) !== now.nodes.get(n.id)) nodesJson.push(JSON.stringify(n));
  }
  const removedNodes = [...base.nodes.keys()].filter((id) => !now.nodes.has(id));
  const linksJson = [];
  for (const [id, text] of now.links) {
    const was = base.links.get(id);
    if (was === undefined) linksJson.push(text);
    else if (was !== text) return null; // a link id reused for other ends: send it all
  }
  const removedLinks = [...base.links.keys()].filter((id) => !now.links.has(id));
  return {
    nodes_json: nodesJson,
    removed_node_ids: removedNodes,
    links_json: linksJson,
    removed_link_ids: removedLinks,
    last_node_id: Number(graph.state?.lastNodeId ?? graph.last_node_id ?? wf.last_node_id ?? 0),
    last_link_id: Number(graph.state?.lastLinkId ?? graph.last_link_id ?? wf.last_link_id ?? 0),
    digest: graphDigest(graph),
  };
}
