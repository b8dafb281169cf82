// Node layout for the canvas executor: the `arrange` command and the
// placement of nodes created without coordinates. One implementation for
// the ComfyUI tab (web/src/executor/commands.js) and the headless editor of
// the tests (tests/graph/editor.mjs), which import this module.
//
// The layout is layered, left to right along the links:
//   1. cycles (ComfyUI refuses them at queue time, a canvas may still hold
//      one) are broken by dropping the back edges of a depth-first search in
//      input order;
//   2. longest-path layering: a node's column is one after the furthest of
//      the nodes that feed it; a node fed by nothing moves right to just
//      before its first consumer (an EmptyLatentImage sits next to the
//      prompts, not next to the checkpoint);
//   3. the order within each column reduces link crossings: barycenter
//      sweeps, down then up, keeping the order with the fewest crossings;
//   4. coordinates: columns as wide as their widest node, each node as close
//      as it can get to the middle of the nodes that feed it, stacked
//      without overlapping.
// Everything is deterministic: the same nodes, sizes and links in the same
// order give the same positions. Groups are not moved.
//
// The pure part (layeredLayout, placeClear) works on plain boxes; the graph
// part (arrangeNodes, placeNewNodes) reads LiteGraph nodes through graphops
// and writes node.pos.

import { linkById, nodeById, nodesOf } from "./graphops.js";

/** Defaults and limits of the layout (canvas units). */
export const LAYOUT = Object.freeze({
  // Gap between columns and between the nodes of a column.
  spacing: 60,
  // The largest spacing a command may ask for (ArrangeCommand.spacing).
  maxSpacing: 10000,
  // LiteGraph draws a node's title above node.pos; its height when the
  // LiteGraph in use does not say.
  titleHeight: 30,
  // Barycenter sweeps (each one down and one up): real graphs settle in 2-3.
  sweeps: 4,
  // Where a node goes on an empty canvas without a view.
  origin: [100, 100],
});

// ------------------------------------------------------------ pure layout

const byKey = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lays boxes out in columns along edges.
 * nodes: [{id, w, h}] (the initial order within a column is this order);
 * edges: [[fromId, toId]] (unknown ids and self loops are ignored);
 * opts: {x, y, spacing}: the layout's top-left corner and the gap.
 * Returns {pos: Map id -> [x, y] (top-left of each box), width, height,
 * layer: Map id -> column}.
 */
export function layeredLayout(nodes, edges, opts = {}) {
  const x0 = opts.x ?? 0;
  const y0 = opts.y ?? 0;
  const gap = opts.spacing ?? LAYOUT.spacing;
  const n = nodes.length;
  const index = new Map();
  nodes.forEach((b, i) => index.set(b.id, i));
  const succ = Array.from({ length: n }, () => []);
  const pred = Array.from({ length: n }, () => []);
  const seen = new Set();
  for (const [f, t] of edges) {
    const a = index.get(f);
    const b = index.get(t);
    if (a === undefined || b === undefined || a === b) continue;
    const key = a * n + b;
    if (seen.has(key)) continue;
    seen.add(key);
    succ[a].push(b);
    pred[b].push(a);
  }

  // 1. Back edges of an iterative DFS in input order.
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  const back = new Set();
  for (let r = 0; r < n; r++) {
    if (state[r]) continue;
    const stack = [[r, 0]];
    state[r] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [v, k] = top;
      if (k < succ[v].length) {
        top[1]++;
        const w = succ[v][k];
        if (state[w] === 1) back.add(v * n + w);
        else if (state[w] === 0) {
          state[w] = 1;
          stack.push([w, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  const fwd = (a, b) => !back.has(a * n + b);
  const preds = pred.map((ps, b) => ps.filter((a) => fwd(a, b)));
  const succs = succ.map((ss, a) => ss.filter((b) => fwd(a, b)));

  // 2. Longest path from the sources, in a topological order (Kahn's, the
  // ready nodes taken in input order).
  const indeg = preds.map((p) => p.length);
  const order = [];
  const ready = [];
  for (let i = 0; i < n; i++) if (!indeg[i]) ready.push(i);
  for (let h = 0; h < ready.length; h++) {
    const v = ready[h];
    order.push(v);
    for (const w of succs[v]) if (--indeg[w] === 0) ready.push(w);
  }
  const layer = new Int32Array(n);
  for (const v of order) for (const w of succs[v]) layer[w] = Math.max(layer[w], layer[v] + 1);
  for (const v of order) {
    if (preds[v].length || !succs[v].length) continue;
    let first = Infinity;
    for (const w of succs[v]) first = Math.min(first, layer[w]);
    layer[v] = Math.max(0, first - 1);
  }
  let columns = 0;
  for (let i = 0; i < n; i++) columns = Math.max(columns, layer[i] + 1);
  const cols = Array.from({ length: columns }, () => []);
  for (let i = 0; i < n; i++) cols[layer[i]].push(i);

  // 3. Barycenter sweeps. rank[v]: v's place in its column, scaled to 0..1
  // so columns of different heights compare.
  const rank = new Float64Array(n);
  const setRanks = () => {
    for (const c of cols) c.forEach((v, i) => (rank[v] = c.length > 1 ? i / (c.length - 1) : 0.5));
  };
  setRanks();
  const reorder = (c, nbrs) => {
    const keyed = c.map((v, i) => {
      const ns = nbrs[v];
      let k = rank[v];
      if (ns.length) {
        let s = 0;
        for (const w of ns) s += rank[w];
        k = s / ns.length;
      }
      return [k, i, v];
    });
    keyed.sort((a, b) => byKey(a[0], b[0]) || a[1] - b[1]);
    return keyed.map((e) => e[2]);
  };
  let best = cols.map((c) => c.slice());
  let bestCross = crossings(cols, succs, layer, n);
  for (let s = 0; s < LAYOUT.sweeps && bestCross > 0; s++) {
    for (let l = 1; l < columns; l++) {
      cols[l] = reorder(cols[l], preds);
      setRanks();
    }
    for (let l = columns - 2; l >= 0; l--) {
      cols[l] = reorder(cols[l], succs);
      setRanks();
    }
    const c = crossings(cols, succs, layer, n);
    if (c < bestCross) {
      bestCross = c;
      best = cols.map((x) => x.slice());
    }
  }

  // 4. Coordinates.
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  let x = x0;
  let bottom = y0;
  for (let l = 0; l < columns; l++) {
    let wmax = 0;
    let next = y0;
    for (const v of best[l]) {
      const b = nodes[v];
      let want = next;
      if (preds[v].length) {
        let s = 0;
        for (const a of preds[v]) s += py[a] + nodes[a].h / 2;
        want = Math.max(next, s / preds[v].length - b.h / 2);
      }
      px[v] = x;
      py[v] = want;
      next = want + b.h + gap;
      wmax = Math.max(wmax, b.w);
      bottom = Math.max(bottom, want + b.h);
    }
    x += wmax + gap;
  }
  const pos = new Map();
  const layers = new Map();
  for (let i = 0; i < n; i++) {
    pos.set(nodes[i].id, [px[i], py[i]]);
    layers.set(nodes[i].id, layer[i]);
  }
  return { pos, layer: layers, width: columns ? x - gap - x0 : 0, height: bottom - y0 };
}

/** Link crossings between the columns: for each pair of columns, the
 * inversions among the edges between them (merge sort, O(E log E)). */
function crossings(cols, succs, layer, n) {
  const where = new Float64Array(n);
  for (const c of cols) c.forEach((v, i) => (where[v] = i));
  const groups = new Map();
  for (let a = 0; a < n; a++)
    for (const b of succs[a]) {
      const k = layer[a] * 65536 + layer[b];
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push([where[a], where[b]]);
    }
  let total = 0;
  for (const g of groups.values()) {
    g.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    total += inversions(g.map((e) => e[1]));
  }
  return total;
}

function inversions(a) {
  if (a.length < 2) return 0;
  const mid = a.length >> 1;
  const l = a.slice(0, mid);
  const r = a.slice(mid);
  let count = inversions(l) + inversions(r);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < l.length && j < r.length) {
    if (l[i] <= r[j]) a[k++] = l[i++];
    else {
      a[k++] = r[j++];
      count += l.length - i;
    }
  }
  while (i < l.length) a[k++] = l[i++];
  while (j < r.length) a[k++] = r[j++];
  return count;
}

/** Do two boxes ({x, y, w, h}) overlap, with margin between them? */
export function overlaps(a, b, margin = 0) {
  return a.x < b.x + b.w + margin && b.x < a.x + a.w + margin && a.y < b.y + b.h + margin && b.y < a.y + a.h + margin;
}

/**
 * The first y at or below box.y where box overlaps none of the occupied
 * boxes (keeping gap to them); x stays. One pass over the boxes it could
 * meet, sorted by top: y only grows, so a box passed once cannot overlap
 * again.
 */
export function placeClear(box, occupied, gap = LAYOUT.spacing) {
  const m = gap / 2;
  const cand = occupied.filter((o) => box.x < o.x + o.w + m && o.x < box.x + box.w + m);
  cand.sort((a, b) => a.y - b.y || a.x - b.x);
  let y = box.y;
  for (const o of cand) if (y < o.y + o.h + m && o.y < y + box.h + m) y = o.y + o.h + gap;
  return y;
}

// ------------------------------------------------------------ on a graph

function titleHeight(lg) {
  const t = lg?.NODE_TITLE_HEIGHT;
  return typeof t === "number" && Number.isFinite(t) && t >= 0 ? t : LAYOUT.titleHeight;
}

/** The box a node takes on the canvas, its title included. */
export function nodeBox(node, lg) {
  const th = titleHeight(lg);
  const w = Number(node.size?.[0]);
  const h = Number(node.size?.[1]);
  const collapsed = !!node.flags?.collapsed;
  return {
    id: node.id,
    x: Number(node.pos?.[0]) || 0,
    y: (Number(node.pos?.[1]) || 0) - th,
    w: Number.isFinite(w) && w > 0 ? w : 200,
    h: collapsed ? th : (Number.isFinite(h) && h > 0 ? h : 100) + th,
  };
}

/** Links of the graph as [fromId, toId] pairs, in link id order. */
export function graphEdges(graph) {
  const out = [];
  for (const node of nodesOf(graph)) {
    for (const input of node.inputs ?? []) {
      if (input?.link === null || input?.link === undefined) continue;
      const l = linkById(graph, input.link);
      if (!l) continue;
      // LLink objects; very old LiteGraph kept [id, origin, slot, target, ...].
      const from = l.origin_id ?? l[1];
      if (from === undefined || from === null) continue;
      out.push([l.id ?? l[0], from, node.id]);
    }
  }
  out.sort((a, b) => byKey(Number(a[0]), Number(b[0])));
  return out.map(([, f, t]) => [f, t]);
}

const idOrder = (a, b) => byKey(Number(a.id), Number(b.id)) || byKey(String(a.id), String(b.id));

function setPos(node, x, y, th) {
  // Whole numbers: positions survive the workflow JSON exactly.
  const p = [Math.round(x), Math.round(y + th)];
  if (node.pos && typeof node.pos.length === "number" && node.pos.length >= 2) {
    node.pos[0] = p[0];
    node.pos[1] = p[1];
  } else node.pos = p;
}

/**
 * Arranges nodes of a graph (all when ids is empty, except those
 * opts.exclude(node) names): the layered layout with its top-left corner at
 * opts.x/y (default: the nodes' current top-left), then each node moved down
 * where it would land on a node outside the set (but for the ids in
 * opts.ignore: nodes still waiting for their place). The initial order of a column is the
 * nodes' current top-to-bottom order (the sweeps keep it unless they cross
 * fewer links). Returns the ids placed, in layout order.
 */
export function arrangeNodes(graph, ids, opts = {}) {
  const lg = opts.LiteGraph;
  const th = titleHeight(lg);
  const gap = opts.spacing ?? LAYOUT.spacing;
  const keep = opts.exclude ?? (() => false);
  let nodes;
  if (ids && ids.length) {
    const set = new Set(ids.map(String));
    nodes = nodesOf(graph).filter((n) => set.has(String(n.id)));
  } else nodes = nodesOf(graph).filter((n) => !keep(n));
  if (!nodes.length) return [];
  const inSet = new Set(nodes.map((n) => String(n.id)));
  const boxes = nodes.map((n) => nodeBox(n, lg));
  boxes.sort((a, b) => a.y - b.y || a.x - b.x || idOrder(a, b));
  const x = opts.x ?? Math.min(...boxes.map((b) => b.x));
  const y = opts.y ?? Math.min(...boxes.map((b) => b.y));
  const edges = graphEdges(graph).filter(([f, t]) => inSet.has(String(f)) && inSet.has(String(t)));
  const { pos, layer } = layeredLayout(boxes, edges, { x, y, spacing: gap });
  const ignore = new Set([...(opts.ignore ?? [])].map(String));
  const others = nodesOf(graph)
    .filter((n) => !inSet.has(String(n.id)) && !ignore.has(String(n.id)))
    .map((n) => nodeBox(n, lg));
  // Left to right, top to bottom: a node pushed down pushes the ones under it.
  const order = boxes.slice().sort((a, b) => layer.get(a.id) - layer.get(b.id) || pos.get(a.id)[1] - pos.get(b.id)[1]);
  const placed = [];
  for (const b of order) {
    const [bx, by] = pos.get(b.id);
    const box = { ...b, x: bx, y: by };
    if (others.length) box.y = placeClear(box, others.concat(placed), gap);
    placed.push(box);
    setPos(nodeById(graph, b.id), box.x, box.y, th);
  }
  return order.map((b) => b.id);
}

/**
 * Places nodes that were created without coordinates (ids, in creation
 * order): laid out among themselves along their links; to the right of the
 * existing nodes that feed them, else centred in the view (opts.view: [x, y,
 * w, h] in canvas units; from its top-left corner when the layout is larger)
 * when that is free, else to the right of the graph's
 * bounding box; and never on another node (a node that would land on one
 * moves down below it).
 */
export function placeNewNodes(graph, ids, opts = {}) {
  const lg = opts.LiteGraph;
  const th = titleHeight(lg);
  const gap = opts.spacing ?? LAYOUT.spacing;
  const fresh = new Set(ids.map(String));
  const nodes = ids.map((id) => nodeById(graph, id)).filter(Boolean);
  if (!nodes.length) return [];
  const boxes = nodes.map((n) => nodeBox(n, lg));
  const fixed = nodesOf(graph)
    .filter((n) => !fresh.has(String(n.id)))
    .map((n) => nodeBox(n, lg));
  const fixedById = new Map(fixed.map((b) => [String(b.id), b]));
  const all = graphEdges(graph);
  const inner = all.filter(([f, t]) => fresh.has(String(f)) && fresh.has(String(t)));
  const rel = layeredLayout(boxes, inner, { x: 0, y: 0, spacing: gap });

  // Upstream nodes already on the canvas: the new nodes go to their right,
  // level with the topmost of them.
  let ax = -Infinity;
  let ay = Infinity;
  for (const [f, t] of all) {
    const up = fixedById.get(String(f));
    if (!up || !fresh.has(String(t))) continue;
    ax = Math.max(ax, up.x + up.w + gap - rel.pos.get(t)[0]);
    ay = Math.min(ay, up.y);
  }
  if (ax === -Infinity) {
    const bounds = boundsOf(fixed);
    const view = Array.isArray(opts.view) && opts.view.length === 4 && opts.view.every(Number.isFinite) ? opts.view : null;
    let spot = null;
    if (view) {
      // Centred; a layout larger than the view starts at its top-left, so
      // the beginning of the flow is in sight.
      spot = [view[0] + Math.max(gap, (view[2] - rel.width) / 2), view[1] + Math.max(gap, (view[3] - rel.height) / 2)];
      const block = { x: spot[0], y: spot[1], w: rel.width, h: rel.height };
      if (fixed.some((b) => overlaps(block, b, gap / 2))) spot = null;
    }
    if (!spot) spot = bounds ? [bounds.x + bounds.w + gap, bounds.y] : view ? [view[0] + view[2] / 4, view[1] + view[3] / 4] : LAYOUT.origin;
    [ax, ay] = spot;
  }
  const order = boxes.slice().sort((a, b) => rel.layer.get(a.id) - rel.layer.get(b.id) || rel.pos.get(a.id)[1] - rel.pos.get(b.id)[1]);
  const occupied = fixed.slice();
  for (const b of order) {
    const [rx, ry] = rel.pos.get(b.id);
    const box = { ...b, x: ax + rx, y: ay + ry };
    box.y = placeClear(box, occupied, gap);
    occupied.push(box);
    setPos(nodeById(graph, b.id), box.x, box.y, th);
  }
  return order.map((b) => b.id);
}

function boundsOf(boxes) {
  if (!boxes.length) return null;
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const b of boxes) {
    x1 = Math.min(x1, b.x);
    y1 = Math.min(y1, b.y);
    x2 = Math.max(x2, b.x + b.w);
    y2 = Math.max(y2, b.y + b.h);
  }
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}
