// Version-tolerant access to a LiteGraph graph as ComfyUI's frontend has it.
// Older frontends expose graph._nodes, the object-index form of graph.links
// and graph.last_node_id; newer ones graph.nodes, a Map of links and
// graph.state.lastNodeId. Everything here reads both forms.

export const nodesOf = (g) => Array.from(g?.nodes ?? g?._nodes ?? []);

export function nodeById(g, id) {
  if (id === null || id === undefined) return null;
  const n = g.getNodeById?.(id);
  if (n) return n;
  return nodesOf(g).find((x) => String(x.id) === String(id)) ?? null;
}

export function linkById(g, id) {
  if (id === null || id === undefined) return null;
  const links = g.links ?? g._links;
  if (!links) return null;
  if (typeof links.get === "function") return links.get(id) ?? null;
  return links[id] ?? null;
}

export function lastNodeId(g) {
  return g.state?.lastNodeId ?? g.last_node_id ?? 0;
}

/** The index of an input slot named by index or by name, or -1. */
export function inputIndex(node, slot) {
  const inputs = node.inputs ?? [];
  if (typeof slot === "number") return Number.isInteger(slot) && slot >= 0 && slot < inputs.length ? slot : -1;
  return inputs.findIndex((s) => s?.name === slot);
}

/** The index of an output slot named by index or by name, or -1. */
export function outputIndex(node, slot) {
  const outputs = node.outputs ?? [];
  if (typeof slot === "number") return Number.isInteger(slot) && slot >= 0 && slot < outputs.length ? slot : -1;
  return outputs.findIndex((s) => s?.name === slot);
}

export function widgetByName(node, name) {
  return (node.widgets ?? []).find((w) => w?.name === name) ?? null;
}

export function widgetNames(node) {
  return (node.widgets ?? []).map((w) => w?.name).filter((n) => typeof n === "string");
}

/** Values of a combo widget (an array, or a function returning one). */
export function comboValues(w, node) {
  let v = w.options?.values;
  if (typeof v === "function") {
    try {
      v = v(w, node);
    } catch {
      v = null;
    }
  }
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object") return Object.keys(v);
  return null;
}

/** The serialised workflow of the graph (LiteGraph JSON). */
export function serializeGraph(g) {
  return g.serialize();
}

/** A comparable text of a workflow: everything but the view (extra.ds) and
 * the derived execution order of the nodes, close to how ComfyUI's change
 * tracker compares states. */
export function workflowSignature(wf) {
  if (!wf || typeof wf !== "object") return "";
  const { extra, nodes, ...rest } = wf;
  let e = extra;
  if (e && typeof e === "object" && "ds" in e) {
    const { ds, ...others } = e; // eslint-disable-line no-unused-vars
    e = others;
  }
  // The provenance the core hands back is kept, not edited (keepProvenance).
  if (e && typeof e === "object" && e.comfyd && typeof e.comfyd === "object" && "provenance" in e.comfyd) {
    const { provenance, ...others } = e.comfyd; // eslint-disable-line no-unused-vars
    const { comfyd, ...rest } = e; // eslint-disable-line no-unused-vars
    e = Object.keys(others).length ? { ...rest, comfyd: others } : rest;
  }
  const n = Array.isArray(nodes)
    ? nodes.map((x) => {
        if (!x || typeof x !== "object") return x;
        const { order, ...keep } = x; // eslint-disable-line no-unused-vars
        return keep;
      })
    : nodes;
  return JSON.stringify({ ...rest, nodes: n, extra: e ?? null });
}

/** Keeps the provenance the core handed back with a report_ack (its
 * provenance_json, docs/provenance.md) in the workflow's
 * extra.comfyd.provenance: ComfyUI saves it with the workflow and ignores
 * it otherwise, and an attach after a core restart brings it back. Storing
 * it is not an edit (workflowSignature leaves it out). Returns true when
 * stored. */
export function keepProvenance(graph, json) {
  if (!graph || typeof json !== "string" || !json) return false;
  let p;
  try {
    p = JSON.parse(json);
  } catch {
    return false;
  }
  if (!p || typeof p !== "object" || Array.isArray(p)) return false;
  if (!graph.extra || typeof graph.extra !== "object") graph.extra = {};
  const c = graph.extra.comfyd && typeof graph.extra.comfyd === "object" ? graph.extra.comfyd : {};
  if (p.since !== undefined) {
    // Only the records changed after revision `since`: merged into the
    // provenance held as of that revision, else kept out (the core sends
    // the whole provenance again after an attach or a load).
    try {
      p = mergeProvenance(graph, c.provenance, p);
    } catch {
      p = null;
    }
    if (!p) return false;
  }
  graph.extra.comfyd = { ...c, provenance: p };
  return true;
}

function isRecord(r) {
  return r && typeof r === "object" && !Array.isArray(r);
}

/** The provenance `cur` (as of revision part.since) with the records of
 * `part` (changed since) put in, and those of nodes and links the graph no
 * longer holds left out; the actors renumbered to the ones in use, as the
 * core writes them. null when cur is not the provenance part follows. */
export function mergeProvenance(graph, cur, part) {
  if (!isRecord(cur) || !isRecord(part) || cur.v !== part.v || cur.revision !== part.since) return null;
  if (!Array.isArray(cur.actors) || !Array.isArray(part.actors)) return null;
  if (!isRecord(part.nodes) || !isRecord(part.links)) return null;
  const actors = [];
  const index = new Map(); // actor's JSON -> its new index
  const use = (a) => {
    if (!isRecord(a)) throw new Error("a record names no actor");
    const k = JSON.stringify(a);
    if (!index.has(k)) {
      index.set(k, actors.length);
      actors.push(a);
    }
    return index.get(k);
  };
  const remap = (from) => (r) => {
    if (!isRecord(r)) return r;
    const out = { ...r, by: use(from[r.by]) };
    if (isRecord(r.created)) out.created = { ...r.created, by: use(from[r.created.by]) };
    if (isRecord(r.widgets)) {
      out.widgets = {};
      for (const [k, w] of Object.entries(r.widgets)) out.widgets[k] = isRecord(w) ? { ...w, by: use(from[w.by]) } : w;
    }
    return out;
  };
  const fromCur = remap(cur.actors);
  const fromPart = remap(part.actors);
  const hasLink = (id) => {
    const l = graph._links ?? graph.links;
    if (!l) return false;
    return typeof l.get === "function" ? l.get(Number(id)) != null : l[id] != null;
  };
  const nodes = {};
  for (const [id, r] of Object.entries(isRecord(cur.nodes) ? cur.nodes : {}))
    if (!(id in part.nodes) && graph.getNodeById?.(Number(id))) nodes[id] = fromCur(r);
  for (const [id, r] of Object.entries(part.nodes)) nodes[id] = fromPart(r);
  const links = {};
  for (const [id, r] of Object.entries(isRecord(cur.links) ? cur.links : {}))
    if (!(id in part.links) && hasLink(id)) links[id] = fromCur(r);
  for (const [id, r] of Object.entries(part.links)) links[id] = fromPart(r);
  return { v: cur.v, revision: part.revision, actors, nodes, links };
}

/** Suggestions for a misspelt name: the closest few by edit distance. */
export function closest(name, candidates, max = 3) {
  const a = String(name).toLowerCase();
  const scored = [];
  for (const c of candidates) {
    const b = String(c).toLowerCase();
    let d = editDistance(a, b);
    if (b.includes(a) || a.includes(b)) d = Math.min(d, 1);
    if (d <= Math.max(2, Math.floor(a.length / 3))) scored.push([d, c]);
  }
  scored.sort((x, y) => x[0] - y[0] || String(x[1]).localeCompare(String(y[1])));
  return scored.slice(0, max).map((x) => x[1]);
}

// Names are short (widget and slot names); a quadratic DP is fine, but bound
// it so a hostile name costs nothing.
const MAX_DISTANCE_INPUT = 128;

function editDistance(a, b) {
  if (a.length > MAX_DISTANCE_INPUT || b.length > MAX_DISTANCE_INPUT) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
