import { describe, expect, it } from "vitest";
import { HOVER_DELAY_MS, actorText, agoText, installProvenanceHover, provenanceLines } from "../../../web/src/executor/provhover.js";
import { ManualTimers } from "./fakes.js";

const PROV = {
  v: 1,
  revision: 9,
  actors: [{ kind: "mcp", name: "claude-code" }, { kind: "user" }, { kind: "skill", session_id: "3f2c9a01-aaaa", skill: "workflow-builder" }],
  nodes: {
    3: { by: 1, rev: 9, at: 1_000_000, created: { by: 2, rev: 4, at: 1_000_000 - 7_200_000 } },
    4: { by: 0, rev: 5, at: 1_000_000 - 30_000 },
  },
  links: {},
};

describe("provenance text", () => {
  it("names each kind of actor, bounded", () => {
    expect(actorText({ kind: "mcp", name: "claude-code" })).toBe("MCP client claude-code");
    expect(actorText({ kind: "mcp" })).toBe("an MCP client");
    expect(actorText({ kind: "grpc", name: "ci-bot" })).toBe("caller ci-bot");
    expect(actorText({ kind: "grpc", name: "" })).toBe("an unnamed caller");
    expect(actorText({ kind: "skill", session_id: "3f2c9a01-aaaa", skill: "prompt-writer" })).toBe("skill prompt-writer (session 3f2c9a01)");
    expect(actorText({ kind: "user" })).toBe("the user");
    expect(actorText({ kind: "load" })).toBe("a loaded workflow");
    expect(actorText(undefined)).toBe("someone unknown");
    expect(actorText({ kind: "grpc", name: "x".repeat(128) }).length).toBeLessThan(80);
    expect(agoText(10_000)).toBe("just now");
    expect(agoText(300_000)).toBe("5 min ago");
    expect(agoText(7_200_000)).toBe("2 h ago");
    expect(agoText(3 * 86_400_000)).toBe("3 d ago");
  });

  it("gives the last change and, when another, the creation", () => {
    expect(provenanceLines(PROV, 3, 1_000_000)).toEqual([
      "Last changed by the user, just now (revision 9)",
      "Created by skill workflow-builder (session 3f2c9a01), 2 h ago (revision 4)",
    ]);
    expect(provenanceLines(PROV, 4, 1_000_000)).toEqual(["Last changed by MCP client claude-code, just now (revision 5)"]);
    expect(provenanceLines(PROV, 99)).toBeNull();
    expect(provenanceLines(undefined, 3)).toBeNull();
    expect(provenanceLines({ nodes: "x" }, 3)).toBeNull();
  });
});

function fakeDocument() {
  const listeners = {};
  const body = { children: [], appendChild(el) { this.children.push(el); } };
  return {
    body,
    listeners,
    createElement: () => ({ style: {}, textContent: "", className: "", remove() { body.children.splice(body.children.indexOf(this), 1); } }),
    addEventListener(type, fn) { (listeners[type] ??= []).push(fn); },
    removeEventListener(type, fn) { listeners[type] = (listeners[type] ?? []).filter((f) => f !== fn); },
    fire(type, e) { for (const fn of listeners[type] ?? []) fn(e); },
  };
}

describe("the hover tooltip", () => {
  it("shows who changed the node under the resting pointer, and hides on leaving it", () => {
    const doc = fakeDocument();
    const timers = new ManualTimers();
    const canvasEl = { getBoundingClientRect: () => ({ left: 10, top: 20 }) };
    const nodes = { 3: { id: 3 }, 4: { id: 4 } };
    let under = null;
    const asked = [];
    const root = {
      extra: { comfyd: { provenance: PROV } },
      getNodeOnPos: (x, y) => {
        asked.push([x, y]);
        return under;
      },
    };
    // The view is scaled by 2 and offset by (5, 5).
    const ds = { convertCanvasToOffset: ([x, y]) => [x / 2 - 5, y / 2 - 5] };
    const app = { rootGraph: root, canvas: { canvas: canvasEl, graph: root, ds, graph_mouse: [999, 999] } };
    const remove = installProvenanceHover({ app, document: doc, timers, now: () => 1_000_000 });
    const tip = doc.body.children[0];
    expect(tip.style.pointerEvents).toBe("none");

    under = nodes[3];
    doc.fire("pointermove", { target: canvasEl, clientX: 100, clientY: 50 });
    timers.advance(HOVER_DELAY_MS - 1);
    expect(tip.style.display).toBe("none");
    timers.advance(1);
    expect(tip.style.display).toBe("block");
    expect(tip.textContent).toMatch(/^Last changed by the user, just now \(revision 9\)\nCreated by skill workflow-builder/);
    expect(tip.style.left).toBe("114px");
    // Looked up where the pointer is, in graph coordinates.
    expect(asked[0]).toEqual([40, 10]);
    // Moving on the same node keeps it, with what is known now.
    root.extra.comfyd.provenance = { ...PROV, nodes: { ...PROV.nodes, 3: { by: 0, rev: 10, at: 1_000_000 } } };
    doc.fire("pointermove", { target: canvasEl, clientX: 101, clientY: 51 });
    expect(tip.style.display).toBe("block");
    expect(tip.textContent).toBe("Last changed by MCP client claude-code, just now (revision 10)");
    expect(tip.style.left).toBe("115px");
    root.extra.comfyd.provenance = PROV;
    // Not while a button is held (a drag).
    doc.fire("pointermove", { target: canvasEl, clientX: 101, clientY: 51, buttons: 1 });
    expect(tip.style.display).toBe("none");
    timers.advance(HOVER_DELAY_MS);
    expect(tip.style.display).toBe("none");
    // Another node restarts the wait.
    under = nodes[4];
    doc.fire("pointermove", { target: canvasEl, clientX: 300, clientY: 50 });
    expect(tip.style.display).toBe("none");
    timers.advance(HOVER_DELAY_MS);
    expect(tip.textContent).toBe("Last changed by MCP client claude-code, just now (revision 5)");
    // Off the canvas, on empty canvas, or a click: hidden.
    doc.fire("pointermove", { target: {}, clientX: 0, clientY: 0 });
    expect(tip.style.display).toBe("none");
    under = null;
    doc.fire("pointermove", { target: canvasEl, clientX: 0, clientY: 0 });
    timers.advance(HOVER_DELAY_MS);
    expect(tip.style.display).toBe("none");
    // A node without provenance shows nothing.
    under = { id: 77 };
    doc.fire("pointermove", { target: canvasEl, clientX: 0, clientY: 0 });
    timers.advance(HOVER_DELAY_MS);
    expect(tip.style.display).toBe("none");
    // Inside a subgraph nothing is shown.
    app.canvas.graph = { getNodeOnPos: () => nodes[3] };
    doc.fire("pointermove", { target: canvasEl, clientX: 0, clientY: 0 });
    timers.advance(HOVER_DELAY_MS);
    expect(tip.style.display).toBe("none");
    remove();
    expect(doc.body.children).toHaveLength(0);
    expect(doc.listeners.pointermove).toHaveLength(0);
  });
});
