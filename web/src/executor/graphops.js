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

/** The revision of the provenance the graph holds (0: none): reports
 * carry it, so that an ack hands back only what changed when the tab holds
 * the provenance it follows (the frontend may put an older one back: an
 * undo restores the workflow's extra with it). */
export function heldProvenance(graph) {
  const r = Number(graph?.extra?.comfyd?.provenance?.revision);
  return Number.isSafeInteger(r) && r > 0 ? r : 0;
}

function isRecord(r) {
  return r && typeof r === "object" && !Array.isArray(r);
}

/** The provenance `cur` (as of revision part.since) with the records of
 * `part` (changed since) put in, and those of nodes and links the graph no
 * longer holds left out. Done in place, touching only what part names
 * (cur's records keep their actor numbers; part's actors are added when
 * new): on a big canvas a merge is one lookup per node, not a copy of
 * every record. The actors are renumbered to the ones in use when unused
 * ones pile up. Returns cur, or null when it is not the provenance part
 * follows. */
export function mergeProvenance(graph, cur, part) {
  if (!isRecord(cur) || !isRecord(part) || cur.v !== part.v || cur.revision !== part.since) return null;
  if (!Array.isArray(cur.actors) || !Array.isArray(part.actors)) return null;
  if (!isRecord(part.nodes) || !isRecord(part.links) || !isRecord(cur.nodes) || !isRecord(cur.links)) return null;
  const index = new Map(cur.actors.map((a, i) => [JSON.stringify(a), i]));
  const to = part.actors.map((a) => {
    if (!isRecord(a)) throw new Error("an actor is not an object");
    const k = JSON.stringify(a);
    if (!index.has(k)) {
      index.set(k, cur.actors.length);
      cur.actors.push(a);
    }
    return index.get(k);
  });
  const by = (i) => {
    if (!Number.isInteger(i) || i < 0 || i >= to.length) throw new Error("a record names no actor");
    return to[i];
  };
  const remap = (r) => {
    if (!isRecord(r)) return r;
    const out = { ...r, by: by(r.by) };
    if (isRecord(r.created)) out.created = { ...r.created, by: by(r.created.by) };
    if (isRecord(r.widgets)) {
      out.widgets = {};
      for (const [k, w] of Object.entries(r.widgets)) out.widgets[k] = isRecord(w) ? { ...w, by: by(w.by) } : w;
    }
    return out;
  };
  // Checked whole before anything changes.
  const nodes = Object.entries(part.nodes).map(([id, r]) => [id, remap(r)]);
  const links = Object.entries(part.links).map(([id, r]) => [id, remap(r)]);
  for (const id of Object.keys(cur.nodes)) if (!graph.getNodeById?.(Number(id))) delete cur.nodes[id];
  const all = graph._links ?? graph.links;
  const hasLink = (id) => !!all && (typeof all.get === "function" ? all.get(Number(id)) != null : all[id] != null);
  for (const id of Object.keys(cur.links)) if (!hasLink(id)) delete cur.links[id];
  for (const [id, r] of nodes) cur.nodes[id] = r;
  for (const [id, r] of links) cur.links[id] = r;
  cur.revision = part.revision;
  if (cur.actors.length > MAX_LOOSE_ACTORS) compactActors(cur);
  return cur;
}

// Actors a merged provenance may hold before the unused ones are dropped.
const MAX_LOOSE_ACTORS = 64;

function compactActors(p) {
  const used = new Map();
  const use = (r) => {
    if (!isRecord(r)) return;
    if (!used.has(r.by)) used.set(r.by, used.size);
    r.by = used.get(r.by);
  };
  const each = (r) => {
    use(r);
    if (isRecord(r?.created)) use(r.created);
    if (isRecord(r?.widgets)) for (const w of Object.values(r.widgets)) use(w);
  };
  for (const r of Object.values(p.nodes)) each(r);
  for (const r of Object.values(p.links)) each(r);
  const actors = new Array(used.size);
  for (const [old, i] of used) actors[i] = p.actors[old];
  p.actors = actors;
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
