// Preview before apply (docs/concurrent-editing.md): the core sends a
// validated patch as {"type":"preview", request_id, commands,
// expected_node_ids, deadline_ms, requested_by, destructive}; the tab shows
// it over the canvas without changing the graph (ghost nodes and links for
// what it creates, changed widgets highlighted with their new values,
// removed nodes and links dimmed) with Accept and Reject, and answers
// {"type":"preview_decision", request_id, accepted}. An accepted preview
// comes back as an ordinary patch (validated again, one undo step).
//
// describePreview is pure (the headless editor of the tests uses it too);
// PreviewOverlay draws it on a LiteGraph canvas and asks the user.

import { normalizeCommand } from "./commands.js";

/** Ghost nodes without coordinates are drawn this far right of the graph. */
const GHOST_GAP = 80;
const GHOST_W = 220;
const GHOST_H = 90;
/** Lines listed in the overlay's summary at most. */
export const MAX_SUMMARY_LINES = 12;

function refKey(r) {
  if (r === null || r === undefined) return null;
  if (typeof r === "object") return r.id !== undefined ? `id:${Number(r.id)}` : r.ref !== undefined ? `ref:${r.ref}` : null;
  return typeof r === "string" && !/^\d+$/.test(r) ? `ref:${r}` : `id:${Number(r)}`;
}

function graphBounds(graph) {
  let right = 0;
  let top = Infinity;
  for (const n of graph?._nodes ?? []) {
    right = Math.max(right, Number(n.pos?.[0] ?? 0) + Number(n.size?.[0] ?? 0));
    top = Math.min(top, Number(n.pos?.[1] ?? 0));
  }
  return { right, top: Number.isFinite(top) ? top : 0 };
}

/**
 * What a preview shows, from the live graph and the preview message:
 *   ghosts:  [{key, id, type, title, pos:[x,y], size:[w,h], widgets}]  nodes it creates
 *   links:   [{from, from_slot, to, to_slot}]   links it makes (node keys "id:N"/"ref:R")
 *   widgets: [{node_id, name, from, to}]        widget values it changes on existing nodes
 *   removed: [node id]                          nodes it removes (all for clear_graph)
 *   unlinked:[{node_id, slot}]                  inputs it disconnects
 *   moved:   [{node_id, pos}]
 *   destructive: bool, requested_by, deadline_ms, lines: [text]
 * opts.keepOnClear(node): nodes clear_graph keeps (the agent panel).
 */
export function describePreview(graph, msg, opts = {}) {
  const out = { ghosts: [], links: [], widgets: [], removed: [], unlinked: [], moved: [], other: [], lines: [] };
  out.requested_by = String(msg?.requested_by ?? "");
  out.deadline_ms = Number(msg?.deadline_ms ?? 0);
  out.destructive = Array.isArray(msg?.destructive) && msg.destructive.length > 0;
  const expected = (msg?.expected_node_ids ?? []).map(Number);
  const b = graphBounds(graph);
  let created = 0;
  const nodeOf = (key) => (key && key.startsWith("id:") ? graph?.getNodeById?.(Number(key.slice(3))) : null);
  const label = (key) => {
    const n = nodeOf(key);
    if (n) return `#${n.id} ${n.title ?? n.type}`;
    const g = out.ghosts.find((x) => x.key === key || `id:${x.id}` === key);
    return g ? `new ${g.type}` : String(key);
  };
  for (const raw of msg?.commands ?? []) {
    let c;
    try {
      c = normalizeCommand(raw);
    } catch {
      out.other.push(raw);
      continue;
    }
    switch (c.type) {
      case "create_node": {
        const id = expected[created] ?? null;
        const hasPos = Number.isFinite(c.x) && Number.isFinite(c.y);
        const pos = hasPos ? [c.x, c.y] : [b.right + GHOST_GAP, b.top + created * (GHOST_H + 40)];
        out.ghosts.push({ key: c.ref !== undefined && c.ref !== "" ? `ref:${c.ref}` : `id:${id}`, id, type: c.node_type, title: c.title || c.node_type, pos, size: [GHOST_W, GHOST_H], widgets: c.widgets ?? {} });
        out.lines.push(`+ ${c.node_type}${c.title ? ` "${c.title}"` : ""}`);
        created++;
        break;
      }
      case "connect":
        out.links.push({ from: refKey(c.from_id), from_slot: c.from_slot, to: refKey(c.to_id), to_slot: c.to_slot });
        out.lines.push(`+ link ${label(refKey(c.from_id))} → ${label(refKey(c.to_id))}`);
        break;
      case "set_widget": {
        const key = refKey(c.node_id);
        const n = nodeOf(key);
        const g = out.ghosts.find((x) => x.key === key);
        if (g) {
          g.widgets = { ...g.widgets, [c.name]: c.value };
          break;
        }
        const w = n?.widgets?.find((x) => x.name === c.name);
        out.widgets.push({ node_id: n ? n.id : key, name: c.name, from: w ? w.value : undefined, to: c.value });
        out.lines.push(`~ ${label(key)}.${c.name}: ${JSON.stringify(w ? w.value : null)} → ${JSON.stringify(c.value)}`);
        break;
      }
      case "remove_node": {
        const n = nodeOf(refKey(c.node_id));
        if (n) out.removed.push(n.id);
        out.lines.push(`− ${label(refKey(c.node_id))}`);
        break;
      }
      case "disconnect": {
        const n = nodeOf(refKey(c.node_id));
        out.unlinked.push({ node_id: n ? n.id : null, slot: c.slot });
        out.lines.push(`− link into ${label(refKey(c.node_id))} (${JSON.stringify(c.slot)})`);
        break;
      }
      case "clear_graph":
        for (const n of graph?._nodes ?? []) if (!opts.keepOnClear?.(n)) out.removed.push(n.id);
        out.lines.push("− every node (clear)");
        break;
      case "move_node": {
        const n = nodeOf(refKey(c.node_id));
        if (n) out.moved.push({ node_id: n.id, pos: [c.x, c.y] });
        out.lines.push(`↦ ${label(refKey(c.node_id))}`);
        break;
      }
      default:
        out.other.push(c);
        out.lines.push(`${c.type}`);
    }
  }
  return out;
}

// ------------------------------------------------------------------ the DOM

function slotPos(node, slot, output) {
  const i = typeof slot === "number" ? slot : Math.max(0, (output ? node.outputs : node.inputs)?.findIndex((s) => s.name === slot) ?? 0);
  const x = Number(node.pos[0]) + (output ? Number(node.size[0]) : 0);
  return [x, Number(node.pos[1]) + 14 + i * 20];
}

/**
 * The overlay of one preview on the real canvas: draws over LiteGraph's
 * foreground (ghosts dashed, changed widgets outlined in amber, removed nodes
 * shaded) and shows a bar with the summary, Accept and Reject. deps: {app,
 * document, timers}. show() resolves true (accepted) or false (rejected, or
 * the deadline passed); nothing in the graph changes here. deps.isPanelNode:
 * nodes clear_graph keeps (not shown as removed).
 */
export class PreviewOverlay {
  constructor(deps) {
    this.d = deps;
    this.t = deps.timers ?? globalThis;
    this.current = null;
  }

  get active() {
    return this.current !== null;
  }

  show(msg) {
    this.dismiss(false);
    const graph = this.d.app?.graph ?? this.d.app?.canvas?.graph;
    const desc = describePreview(graph, msg, { keepOnClear: this.d.isPanelNode });
    return new Promise((resolve) => {
      const cur = { msg, desc, resolve, el: null, timer: null, prevDraw: null };
      this.current = cur;
      const left = desc.deadline_ms ? desc.deadline_ms - Date.now() : 0;
      if (left > 0) cur.timer = this.t.setTimeout(() => this.finish(cur, false), left);
      this.hookCanvas(cur);
      cur.el = this.bar(cur);
    });
  }

  /** Ends the preview on screen (e.g. the tab switched workflows). */
  dismiss(accepted = false) {
    if (this.current) this.finish(this.current, accepted);
  }

  decide(accepted) {
    if (this.current) this.finish(this.current, !!accepted);
  }

  finish(cur, accepted) {
    if (this.current !== cur) return;
    this.current = null;
    if (cur.timer) this.t.clearTimeout(cur.timer);
    cur.el?.remove();
    const canvas = this.d.app?.canvas;
    if (canvas) {
      canvas.onDrawForeground = cur.prevDraw;
      canvas.setDirty?.(true, true);
    }
    cur.resolve(accepted);
  }

  hookCanvas(cur) {
    const canvas = this.d.app?.canvas;
    if (!canvas) return;
    cur.prevDraw = canvas.onDrawForeground ?? null;
    const self = this;
    canvas.onDrawForeground = function (ctx, area) {
      if (cur.prevDraw) cur.prevDraw.call(this, ctx, area);
      if (self.current === cur) drawPreview(ctx, canvas.graph ?? self.d.app.graph, cur.desc);
    };
    canvas.setDirty?.(true, true);
  }

  bar(cur) {
    const doc = this.d.document ?? globalThis.document;
    if (!doc?.createElement) return null;
    const el = doc.createElement("div");
    el.className = "comfyd-preview";
    el.setAttribute("role", "dialog");
    el.setAttribute("aria-label", "comfyd preview");
    el.style.cssText =
      "position:fixed;left:50%;bottom:24px;transform:translateX(-50%);z-index:10000;max-width:560px;" +
      "background:#1f2330;color:#e8e8e8;border:1px solid #f0b429;border-radius:8px;padding:10px 14px;" +
      "font:13px/1.4 sans-serif;box-shadow:0 4px 18px rgba(0,0,0,.5)";
    const head = doc.createElement("div");
    head.style.cssText = "font-weight:600;margin-bottom:6px";
    head.textContent = `${cur.desc.requested_by || "An agent"} proposes a change${cur.desc.destructive ? " that removes work" : ""}`;
    el.appendChild(head);
    const list = doc.createElement("ul");
    list.style.cssText = "margin:0 0 8px 16px;padding:0;max-height:180px;overflow:auto";
    const lines = cur.desc.lines.slice(0, MAX_SUMMARY_LINES);
    if (cur.desc.lines.length > lines.length) lines.push(`… and ${cur.desc.lines.length - lines.length} more`);
    for (const text of lines) {
      const li = doc.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    }
    el.appendChild(list);
    const row = doc.createElement("div");
    row.style.cssText = "display:flex;gap:8px;justify-content:flex-end";
    const button = (text, cls, accepted, bg) => {
      const b = doc.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = text;
      b.style.cssText = `background:${bg};color:#fff;border:0;border-radius:5px;padding:5px 14px;cursor:pointer`;
      b.addEventListener("click", () => this.finish(cur, accepted));
      row.appendChild(b);
      return b;
    };
    button("Reject", "comfyd-preview-reject", false, "#8a2c2c");
    button("Accept", "comfyd-preview-accept", true, "#2c7a3f");
    el.appendChild(row);
    (doc.body ?? doc.documentElement)?.appendChild(el);
    return el;
  }
}

/** Draws desc over the graph (canvas coordinates: LiteGraph has applied its
 * transform to ctx before onDrawForeground). */
export function drawPreview(ctx, graph, desc) {
  const nodeRect = (key) => {
    if (key?.startsWith?.("id:")) {
      const n = graph?.getNodeById?.(Number(key.slice(3)));
      if (n) return { node: n };
    }
    const g = desc.ghosts.find((x) => x.key === key || `id:${x.id}` === key);
    return g ? { ghost: g } : null;
  };
  ctx.save();
  // Removed nodes: shaded and crossed.
  for (const id of desc.removed) {
    const n = graph?.getNodeById?.(id);
    if (!n) continue;
    const [x, y] = n.pos;
    const [w, h] = n.size;
    ctx.fillStyle = "rgba(20,20,20,0.6)";
    ctx.fillRect(x, y - 30, w, h + 30);
    ctx.strokeStyle = "#d9534f";
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, y - 30);
    ctx.lineTo(x + w, y + h);
    ctx.stroke();
  }
  // Changed widgets: the node outlined, the new values written above it.
  const byNode = new Map();
  for (const w of desc.widgets) byNode.set(w.node_id, [...(byNode.get(w.node_id) ?? []), w]);
  for (const [id, ws] of byNode) {
    const n = graph?.getNodeById?.(Number(id));
    if (!n) continue;
    ctx.strokeStyle = "#f0b429";
    ctx.lineWidth = 3;
    ctx.strokeRect(n.pos[0] - 4, n.pos[1] - 34, n.size[0] + 8, n.size[1] + 38);
    ctx.fillStyle = "#f0b429";
    ctx.font = "12px sans-serif";
    ws.forEach((w, i) => ctx.fillText(`${w.name} → ${JSON.stringify(w.to)}`, n.pos[0], n.pos[1] - 40 - 14 * i));
  }
  // Ghost nodes: dashed outlines with their type.
  ctx.setLineDash([8, 6]);
  for (const g of desc.ghosts) {
    ctx.fillStyle = "rgba(80,160,255,0.15)";
    ctx.fillRect(g.pos[0], g.pos[1] - 30, g.size[0], g.size[1] + 30);
    ctx.strokeStyle = "#50a0ff";
    ctx.lineWidth = 2;
    ctx.strokeRect(g.pos[0], g.pos[1] - 30, g.size[0], g.size[1] + 30);
    ctx.fillStyle = "#9cc8ff";
    ctx.font = "14px sans-serif";
    ctx.fillText(`+ ${g.title}`, g.pos[0] + 8, g.pos[1] - 10);
  }
  // Ghost links.
  ctx.strokeStyle = "#50a0ff";
  for (const l of desc.links) {
    const a = nodeRect(l.from);
    const b = nodeRect(l.to);
    if (!a || !b) continue;
    const p = a.node ? slotPos(a.node, l.from_slot, true) : [a.ghost.pos[0] + a.ghost.size[0], a.ghost.pos[1] + 14];
    const q = b.node ? slotPos(b.node, l.to_slot, false) : [b.ghost.pos[0], b.ghost.pos[1] + 14];
    ctx.beginPath();
    ctx.moveTo(p[0], p[1]);
    ctx.bezierCurveTo(p[0] + 60, p[1], q[0] - 60, q[1], q[0], q[1]);
    ctx.stroke();
  }
  ctx.restore();
}
