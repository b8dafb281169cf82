// Who last changed a node, shown when the pointer rests on it: read from the
// workflow's extra.comfyd.provenance, which the tab keeps from the core's
// report acks (docs/provenance.md). A small tooltip near the pointer; it
// never takes pointer events and never changes the graph.

/** How long the pointer rests on a node before the tooltip shows. */
export const HOVER_DELAY_MS = 600;
/** Longest name shown of an actor (the core allows 128 bytes). */
const MAX_NAME = 64;

function cut(s) {
  const t = String(s ?? "");
  return t.length > MAX_NAME ? `${t.slice(0, MAX_NAME - 1)}…` : t;
}

/** A person's description of an actor of extra.comfyd.provenance. */
export function actorText(a) {
  switch (a?.kind) {
    case "skill":
      return `skill ${cut(a.skill)} (session ${cut(a.session_id).slice(0, 8)})`;
    case "mcp":
      return a.name ? `MCP client ${cut(a.name)}` : "an MCP client";
    case "grpc":
      return a.name ? `caller ${cut(a.name)}` : "an unnamed caller";
    case "user":
      return "the user";
    case "load":
      return "a loaded workflow";
    default:
      return "someone unknown";
  }
}

/** "just now", "5 min ago", "3 h ago", "2 d ago". */
export function agoText(ms) {
  const s = Math.max(0, Math.round(Number(ms) / 1000));
  if (!Number.isFinite(s) || s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** The tooltip's lines for node id, or null when nothing is known. */
export function provenanceLines(prov, nodeId, now = Date.now()) {
  if (!prov || typeof prov !== "object" || !prov.nodes || typeof prov.nodes !== "object") return null;
  const n = prov.nodes[String(nodeId)];
  if (!n || typeof n !== "object") return null;
  const actors = Array.isArray(prov.actors) ? prov.actors : [];
  const line = (r) => `${actorText(actors[r.by])}, ${agoText(now - Number(r.at))} (revision ${r.rev})`;
  const lines = [`Last changed by ${line(n)}`];
  const c = n.created;
  if (c && typeof c === "object" && (c.by !== n.by || c.rev !== n.rev)) lines.push(`Created by ${line(c)}`);
  return lines;
}

/**
 * Shows the tooltip over the ComfyUI canvas. deps: app (the frontend's app:
 * app.canvas is the LGraphCanvas: its canvas element and its ds transform
 * give the graph position under the pointer), document, timers
 * ({setTimeout, clearTimeout}), now().
 * Returns a function that removes it.
 */
export function installProvenanceHover({ app, document, timers = globalThis, now = () => Date.now() }) {
  const tip = document.createElement("div");
  tip.className = "comfyd-provenance-tip";
  Object.assign(tip.style, {
    position: "fixed", zIndex: "10000", pointerEvents: "none", display: "none", maxWidth: "420px",
    padding: "4px 8px", borderRadius: "4px", font: "12px sans-serif", whiteSpace: "pre-line",
    background: "rgba(20, 20, 20, 0.92)", color: "#ddd", border: "1px solid #555",
  });
  document.body.appendChild(tip);
  let timer = null;
  let nodeId = null;

  const hide = () => {
    if (timer) timers.clearTimeout(timer);
    timer = null;
    nodeId = null;
    tip.style.display = "none";
  };

  // The graph position under the event: from the canvas's own transform
  // (its graph_mouse may not have seen this event yet).
  const graphPos = (c, e) => {
    const r = c.canvas?.getBoundingClientRect?.();
    if (r && typeof c.ds?.convertCanvasToOffset === "function")
      return c.ds.convertCanvasToOffset([e.clientX - r.left, e.clientY - r.top]);
    return c.graph_mouse ?? null;
  };

  const nodeUnder = (e) => {
    const c = app.canvas;
    const root = app.rootGraph ?? app.graph;
    const g = c?.graph ?? root;
    // Inside a subgraph the ids are the subgraph's own: nothing to show.
    if (g !== root) return null;
    const m = graphPos(c, e);
    if (!g || !m || typeof g.getNodeOnPos !== "function") return null;
    return g.getNodeOnPos(m[0], m[1]) ?? null;
  };

  // Written when shown and again at each move over the same node: the
  // provenance may have changed meanwhile.
  const render = (x, y) => {
    const g = app.rootGraph ?? app.graph;
    const lines = provenanceLines(g?.extra?.comfyd?.provenance, nodeId, now());
    if (!lines) {
      tip.style.display = "none";
      return;
    }
    tip.textContent = lines.join("\n");
    tip.style.left = `${x + 14}px`;
    tip.style.top = `${y + 14}px`;
    tip.style.display = "block";
  };

  const onMove = (e) => {
    // Not while dragging, and only over the canvas.
    if (!app.canvas || e.target !== app.canvas.canvas || e.buttons) return hide();
    const node = nodeUnder(e);
    if (!node) return hide();
    if (node.id === nodeId) {
      if (!timer) render(e.clientX, e.clientY);
      return;
    }
    hide();
    nodeId = node.id;
    const x = e.clientX;
    const y = e.clientY;
    timer = timers.setTimeout(() => {
      timer = null;
      render(x, y);
    }, HOVER_DELAY_MS);
  };

  document.addEventListener("pointermove", onMove, { passive: true });
  document.addEventListener("pointerdown", hide, true);
  return () => {
    hide();
    document.removeEventListener("pointermove", onMove);
    document.removeEventListener("pointerdown", hide, true);
    tip.remove();
  };
}
