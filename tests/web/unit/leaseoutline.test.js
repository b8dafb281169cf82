import { describe, expect, it } from "vitest";
import { LEASE_COLOR, drawLeases, holderLabel, installLeaseOutline, leasedNodes } from "../../../web/src/executor/leaseoutline.js";
import { EditorClient } from "../../../web/src/executor/editor.js";
import { FakeSocket, ManualTimers } from "./fakes.js";
import { LiteGraph, newGraph, txt2img } from "./harness.js";

// A 2D context that records what is drawn.
function recordingCtx() {
  const calls = [];
  const ctx = { calls, save: () => calls.push(["save"]), restore: () => calls.push(["restore"]), setLineDash: (d) => calls.push(["dash", d]) };
  ctx.strokeRect = (...a) => calls.push(["strokeRect", ...a, ctx.strokeStyle]);
  ctx.fillText = (...a) => calls.push(["fillText", ...a]);
  return ctx;
}

const LEASE = {
  id: 3,
  holder: { kind: "ACTOR_KIND_SKILL", session_id: "3f2c9a01-aaaa", skill: "prompt-writer", name: "" },
  node_ids: [6, 7],
  expires_ms: 10_000,
};
const MCP = { id: 4, holder: { kind: "ACTOR_KIND_MCP", name: "claude-code" }, node_ids: [5, 6], expires_ms: 20_000 };

describe("lease outlines", () => {
  it("labels holders and keeps the leases in force", () => {
    expect(holderLabel(LEASE.holder)).toBe("skill prompt-writer");
    expect(holderLabel({ kind: "ACTOR_KIND_GRPC", name: "ci-bot" })).toBe("ci-bot");
    expect(holderLabel({ kind: "mcp" })).toBe("an MCP client");
    expect(holderLabel({ kind: "ACTOR_KIND_GRPC", name: "x".repeat(128) }).length).toBeLessThanOrEqual(40);
    const m = leasedNodes([LEASE, MCP], 1_000);
    expect([...m.keys()].sort()).toEqual([5, 6, 7]);
    expect(m.get(6).label).toBe("leased by skill prompt-writer"); // the first lease of a node
    expect(m.get(5).label).toBe("leased by MCP claude-code");
    // Past its expiry a lease is gone; the skew moves the expiry to local time.
    expect([...leasedNodes([LEASE, MCP], 10_000).keys()].sort()).toEqual([5, 6]);
    expect([...leasedNodes([LEASE], 9_000, 2_000).keys()]).toEqual([]);
    expect(leasedNodes(null, 0).size).toBe(0);
    expect(leasedNodes([{ id: 1, node_ids: ["x", -1], expires_ms: 5 }], 0).size).toBe(0);
  });

  it("outlines each leased node of the real graph with the holder's name", () => {
    const g = newGraph();
    g.configure(structuredClone(txt2img));
    const node = g.getNodeById(6);
    const ctx = recordingCtx();
    const n = drawLeases(ctx, g, leasedNodes([LEASE], 0), { titleHeight: LiteGraph.NODE_TITLE_HEIGHT });
    expect(n).toBe(2);
    const rects = ctx.calls.filter((c) => c[0] === "strokeRect");
    expect(rects).toHaveLength(2);
    const r = rects.find((c) => c[1] === node.pos[0] - 6);
    expect(r).toBeDefined();
    expect(r[2]).toBe(node.pos[1] - LiteGraph.NODE_TITLE_HEIGHT - 6);
    expect(r[3]).toBe(node.size[0] + 12);
    expect(r[5]).toBe(LEASE_COLOR);
    expect(ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1])).toEqual(["leased by skill prompt-writer", "leased by skill prompt-writer"]);
    expect(ctx.calls[0]).toEqual(["save"]);
    expect(ctx.calls.at(-1)).toEqual(["restore"]);
    // A node that is not on the canvas draws nothing.
    expect(drawLeases(recordingCtx(), g, leasedNodes([{ ...LEASE, node_ids: [999] }], 0))).toBe(0);
  });

  it("draws through the canvas's foreground hook, chained, and redraws at expiry", () => {
    const g = newGraph();
    g.configure(structuredClone(txt2img));
    const timers = new ManualTimers();
    let prevCalls = 0;
    let dirty = 0;
    const canvas = { graph: g, ds: { scale: 1 }, setDirty: () => dirty++, onDrawForeground: () => prevCalls++ };
    const app = { canvas, rootGraph: g };
    const o = installLeaseOutline({ app, LiteGraph, timers, now: () => timers.now() });
    o.update({ type: "lease_update", leases: [LEASE], now_ms: 0 });
    expect(dirty).toBe(1);
    const ctx = recordingCtx();
    canvas.onDrawForeground(ctx, [0, 0, 100, 100]);
    expect(prevCalls).toBe(1);
    expect(ctx.calls.filter((c) => c[0] === "strokeRect")).toHaveLength(2);
    // The lease runs out: a redraw, then nothing is outlined.
    timers.advance(10_100);
    expect(dirty).toBe(2);
    const after = recordingCtx();
    canvas.onDrawForeground(after, [0, 0, 100, 100]);
    expect(after.calls.filter((c) => c[0] === "strokeRect")).toHaveLength(0);
    // Inside a subgraph nothing is drawn.
    o.update({ leases: [MCP], now_ms: timers.now() });
    canvas.graph = {};
    const sub = recordingCtx();
    canvas.onDrawForeground(sub, [0, 0, 1, 1]);
    expect(sub.calls).toHaveLength(0);
  });

  it("the editor hands the core's lease_update to the outline and clears it on attach", () => {
    FakeSocket.reset();
    const got = [];
    const g = newGraph();
    const timers = new ManualTimers();
    const ed = new EditorClient({
      app: { rootGraph: g, graph: g, canvas: null },
      api: { addEventListener() {} },
      LiteGraph,
      connection: { get: async () => ({ url: "ws://x", token: "t" }) },
      WebSocket: FakeSocket,
      tabId: "t1",
      timers,
      log: () => {},
      onLeases: (m) => got.push(m),
    });
    ed.onMessage(JSON.stringify({ type: "lease_update", leases: [LEASE], now_ms: 5 }));
    expect(got).toHaveLength(1);
    expect(got[0].leases[0].id).toBe(3);
    ed.onMessage(JSON.stringify({ type: "attached", revision: 1 }));
    expect(got.at(-1)).toEqual({ leases: [] });
  });
});
