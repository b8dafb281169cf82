// Leases (docs/concurrent-editing.md, "Leases"): a subtle dashed outline
// with the holder's name around each node a skill, an MCP client or a named
// caller holds a lease on. The core sends the canvas's leases in
// lease_update messages (on a change and on attach); each lease is dropped
// here at its expires_ms without waiting for the core. Drawing goes through
// the LiteGraph canvas's onDrawForeground (graph coordinates), chained with
// whatever was there; it never changes the graph and the user may still
// edit a leased node (the holder is told through the diff).

/** Outline and label colour: visible on dark and light themes, not loud. */
export const LEASE_COLOR = "rgba(110, 160, 255, 0.8)";
/** Longest holder name drawn (the core allows 128 bytes). */
const MAX_NAME = 40;
/** Leases kept from one message (the core holds at most 64 per canvas). */
const MAX_LEASES = 256;
/** Gap between a node and its outline, in graph units. */
const PAD = 6;

function cut(s) {
  const t = String(s ?? "");
  return t.length > MAX_NAME ? `${t.slice(0, MAX_NAME - 1)}…` : t;
}

/** A short name for a lease's holder (Actor as the bridge writes it). */
export function holderLabel(a) {
  const kind = String(a?.kind ?? "").replace(/^ACTOR_KIND_/, "").toLowerCase();
  switch (kind) {
    case "skill":
      return `skill ${cut(a.skill)}`;
    case "mcp":
      return a.name ? `MCP ${cut(a.name)}` : "an MCP client";
    case "grpc":
      return a.name ? cut(a.name) : "a caller";
    default:
      return "someone";
  }
}

/**
 * The leased nodes of a lease_update at local time now: Map node id ->
 * {label, expires (local ms), leaseId}. skew is the core's clock minus the
 * local one when the message came.
 */
export function leasedNodes(leases, now, skew = 0) {
  const out = new Map();
  if (!Array.isArray(leases)) return out;
  for (const l of leases.slice(0, MAX_LEASES)) {
    if (!l || typeof l !== "object" || !Array.isArray(l.node_ids)) continue;
    const expires = Number(l.expires_ms) - skew;
    if (!Number.isFinite(expires) || expires <= now) continue;
    const label = `leased by ${holderLabel(l.holder)}`;
    for (const id of l.node_ids) {
      const n = Number(id);
      if (Number.isInteger(n) && n > 0 && !out.has(n)) out.set(n, { label, expires, leaseId: Number(l.id) });
    }
  }
  return out;
}

/** Draws the outlines of nodes (Map from leasedNodes) of graph g on ctx. */
export function drawLeases(ctx, g, nodes, { titleHeight = 30, scale = 1 } = {}) {
  if (!nodes.size || !g || typeof g.getNodeById !== "function") return 0;
  let drawn = 0;
  ctx.save();
  ctx.strokeStyle = LEASE_COLOR;
  ctx.fillStyle = LEASE_COLOR;
  ctx.lineWidth = Math.max(1, 1.5 / (scale || 1));
  if (typeof ctx.setLineDash === "function") ctx.setLineDash([6, 4]);
  ctx.font = "12px sans-serif";
  for (const [id, info] of nodes) {
    const node = g.getNodeById(id);
    if (!node || !node.pos || !node.size) continue;
    const collapsed = !!node.flags?.collapsed;
    const w = collapsed ? Number(node._collapsed_width ?? node.size[0]) : Number(node.size[0]);
    const h = collapsed ? 0 : Number(node.size[1]);
    const x = Number(node.pos[0]) - PAD;
    const y = Number(node.pos[1]) - titleHeight - PAD;
    ctx.strokeRect(x, y, w + 2 * PAD, h + titleHeight + 2 * PAD);
    ctx.fillText(info.label, x, y - 4);
    drawn++;
  }
  ctx.restore();
  return drawn;
}

/**
 * Installs the outlines on the ComfyUI canvas. deps: app (app.canvas is the
 * LGraphCanvas), LiteGraph (for NODE_TITLE_HEIGHT), timers, now().
 * Returns {update(msg), nodes(), remove()}: update takes a lease_update.
 */
export function installLeaseOutline({ app, LiteGraph, timers = globalThis, now = () => Date.now() }) {
  let leases = [];
  let skew = 0;
  let timer = null;
  let hooked = null;

  const current = () => leasedNodes(leases, now(), skew);
  const redraw = () => app.canvas?.setDirty?.(true, true);

  // Redraw when the next lease runs out, so its outline goes.
  const schedule = () => {
    if (timer) timers.clearTimeout(timer);
    timer = null;
    let next = Infinity;
    for (const v of current().values()) next = Math.min(next, v.expires);
    if (next !== Infinity) {
      timer = timers.setTimeout(() => {
        timer = null;
        redraw();
        schedule();
      }, Math.max(0, next - now()) + 50);
    }
  };

  const draw = (ctx) => {
    const c = app.canvas;
    const root = app.rootGraph ?? app.graph;
    // Inside a subgraph the ids are the subgraph's own: nothing to draw.
    if (!c || (c.graph && c.graph !== root)) return;
    drawLeases(ctx, root, current(), { titleHeight: LiteGraph?.NODE_TITLE_HEIGHT ?? 30, scale: c.ds?.scale ?? 1 });
  };

  const hook = () => {
    const c = app.canvas;
    if (!c || hooked === c) return;
    const prev = c.onDrawForeground;
    c.onDrawForeground = function (ctx, area) {
      if (typeof prev === "function") prev.call(this, ctx, area);
      draw(ctx);
    };
    hooked = c;
  };

  return {
    update(msg) {
      hook();
      leases = Array.isArray(msg?.leases) ? msg.leases : [];
      const coreNow = Number(msg?.now_ms);
      skew = Number.isFinite(coreNow) && coreNow > 0 ? coreNow - now() : 0;
      schedule();
      redraw();
    },
    nodes: current,
    remove() {
      if (timer) timers.clearTimeout(timer);
      timer = null;
      leases = [];
      redraw();
    },
  };
}
