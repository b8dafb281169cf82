// Preview before apply in the tab (web/src/executor/preview.js): what the
// overlay shows, its Accept / Reject bar in a real DOM (jsdom), the drawing
// over LiteGraph's foreground, and the editor client's preview_decision.
import { JSDOM } from "jsdom";
import { beforeEach, describe, expect, it } from "vitest";
import { LiteGraph, fakeApp, newGraph, objectInfo } from "./harness.js";
import { FakeSocket, ManualTimers, fakeConnection, flush } from "./fakes.js";
import { PreviewOverlay, describePreview, drawPreview } from "../../../web/src/executor/preview.js";
import { EditorClient } from "../../../web/src/executor/editor.js";
import { workflowSignature } from "../../../web/src/executor/graphops.js";

function graphWithNodes() {
  const graph = newGraph();
  const ks = LiteGraph.createNode("KSampler");
  ks.pos = [600, 0];
  graph.add(ks);
  const lat = LiteGraph.createNode("EmptyLatentImage");
  lat.pos = [0, 0];
  graph.add(lat);
  return { graph, ks, lat };
}

/** A 2D context that records what is drawn. */
function recordingCtx() {
  const calls = [];
  const ctx = new Proxy(
    { calls },
    {
      get(t, k) {
        if (k in t) return t[k];
        return (...args) => calls.push([k, ...args]);
      },
      set(t, k, v) {
        t[k] = v;
        return true;
      },
    },
  );
  return ctx;
}

const MSG = (ks, lat) => ({
  type: "preview",
  request_id: "7",
  requested_by: "skill workflow-builder",
  deadline_ms: Date.now() + 60000,
  expected_node_ids: [3],
  destructive: [3],
  commands: [
    { type: "create_node", node_type: "EmptyLatentImage", ref: "new", x: 0, y: 400 },
    { type: "connect", from_id: "new", from_slot: 0, to_id: ks.id, to_slot: "latent_image" },
    { type: "set_widget", node_id: ks.id, name: "steps", value: 31 },
    { type: "remove_node", node_id: lat.id },
  ],
});

describe("describePreview", () => {
  it("lists ghost nodes and links, changed widgets with old and new values, removed nodes", () => {
    const { graph, ks, lat } = graphWithNodes();
    const d = describePreview(graph, MSG(ks, lat));
    expect(d.ghosts).toHaveLength(1);
    expect(d.ghosts[0]).toMatchObject({ key: "ref:new", id: 3, type: "EmptyLatentImage", pos: [0, 400] });
    expect(d.links).toEqual([{ from: "ref:new", from_slot: 0, to: `id:${ks.id}`, to_slot: "latent_image" }]);
    expect(d.widgets).toEqual([{ node_id: ks.id, name: "steps", from: 20, to: 31 }]);
    expect(d.removed).toEqual([lat.id]);
    expect(d.destructive).toBe(true);
    expect(d.requested_by).toBe("skill workflow-builder");
    expect(d.lines).toHaveLength(4);
  });

  it("places ghosts without coordinates right of the graph and dims every node for clear_graph", () => {
    const { graph, ks, lat } = graphWithNodes();
    const d = describePreview(graph, { commands: [{ type: "create_node", node_type: "VAEDecode" }, { type: "clear_graph" }] });
    expect(d.ghosts[0].pos[0]).toBeGreaterThan(ks.pos[0] + ks.size[0]);
    expect(d.removed.sort()).toEqual([ks.id, lat.id].sort());
    // The agent panel survives a clear: not shown as removed.
    const kept = describePreview(graph, { commands: [{ type: "clear_graph" }] }, { keepOnClear: (n) => n.id === ks.id });
    expect(kept.removed).toEqual([lat.id]);
  });

  it("draws over the canvas without touching the graph", () => {
    const { graph, ks, lat } = graphWithNodes();
    const before = workflowSignature(graph.serialize());
    const ctx = recordingCtx();
    drawPreview(ctx, graph, describePreview(graph, MSG(ks, lat)));
    const names = ctx.calls.map((c) => c[0]);
    expect(names).toContain("strokeRect"); // ghost and highlighted widget node
    expect(names).toContain("bezierCurveTo"); // ghost link
    expect(ctx.calls.some((c) => c[0] === "fillText" && String(c[1]).startsWith("steps → 31"))).toBe(true);
    expect(workflowSignature(graph.serialize())).toBe(before);
  });
});

describe("PreviewOverlay", () => {
  let dom;
  beforeEach(() => {
    dom = new JSDOM("<!doctype html><body></body>");
  });

  it("shows a bar with Accept and Reject; Accept resolves true and removes everything", async () => {
    const { graph, ks, lat } = graphWithNodes();
    const app = fakeApp(graph);
    app.graph = graph;
    const timers = new ManualTimers();
    const ov = new PreviewOverlay({ app, document: dom.window.document, timers });
    const p = ov.show(MSG(ks, lat));
    const bar = dom.window.document.querySelector(".comfyd-preview");
    expect(bar).not.toBeNull();
    expect(bar.textContent).toContain("skill workflow-builder proposes a change that removes work");
    expect(bar.querySelectorAll("li")).toHaveLength(4);
    expect(typeof app.canvas.onDrawForeground).toBe("function");
    const ctx = recordingCtx();
    app.canvas.onDrawForeground(ctx, [0, 0, 100, 100]);
    expect(ctx.calls.length).toBeGreaterThan(0);
    bar.querySelector(".comfyd-preview-accept").click();
    await expect(p).resolves.toBe(true);
    expect(dom.window.document.querySelector(".comfyd-preview")).toBeNull();
    expect(app.canvas.onDrawForeground).toBeNull();
    expect(ov.active).toBe(false);
  });

  it("Reject resolves false; the deadline resolves false", async () => {
    const { graph, ks, lat } = graphWithNodes();
    const app = fakeApp(graph);
    const timers = new ManualTimers();
    const ov = new PreviewOverlay({ app, document: dom.window.document, timers });
    const p1 = ov.show(MSG(ks, lat));
    dom.window.document.querySelector(".comfyd-preview-reject").click();
    await expect(p1).resolves.toBe(false);
    const p2 = ov.show({ ...MSG(ks, lat), deadline_ms: Date.now() + 5000 });
    timers.advance(6000);
    await expect(p2).resolves.toBe(false);
    expect(dom.window.document.querySelector(".comfyd-preview")).toBeNull();
  });
});

describe("the editor client and previews", () => {
  beforeEach(() => FakeSocket.reset());

  async function setup(preview) {
    const graph = newGraph();
    const ks = LiteGraph.createNode("KSampler");
    graph.add(ks);
    const app = fakeApp(graph);
    const client = new EditorClient({
      app,
      api: {},
      LiteGraph,
      connection: fakeConnection(),
      WebSocket: FakeSocket,
      tabId: "tab1",
      objectInfo: async () => objectInfo,
      timers: new ManualTimers(),
      hasFocus: () => true,
      log: () => {},
      isPanelNode: () => false,
      preview,
    });
    client.start();
    await flush();
    const s = FakeSocket.last();
    s.open();
    s.receive({ type: "attached", canvas_id: client.canvasId, revision: 1 });
    return { graph, ks, app, client, s };
  }

  it("attaches with can_preview and answers the user's decision, leaving the graph alone", async () => {
    const dom = new JSDOM("<!doctype html><body></body>");
    let env;
    const overlay = {
      show: (m) => new PreviewOverlay({ app: env.app, document: dom.window.document, timers: new ManualTimers() }).show(m),
    };
    env = await setup(overlay);
    expect(env.s.ofType("attach")[0].can_preview).toBe(true);
    const before = workflowSignature(env.graph.serialize());
    env.s.receive({ type: "preview", request_id: "9", commands: [{ type: "set_widget", node_id: env.ks.id, name: "steps", value: 5 }] });
    await flush();
    expect(env.s.ofType("preview_decision")).toHaveLength(0);
    dom.window.document.querySelector(".comfyd-preview-accept").click();
    await flush();
    expect(env.s.ofType("preview_decision")).toEqual([{ type: "preview_decision", request_id: "9", accepted: true }]);
    expect(workflowSignature(env.graph.serialize())).toBe(before);
    expect(env.s.ofType("patch_result")).toHaveLength(0);
  });

  it("a tab without an overlay does not claim previews and rejects one it gets", async () => {
    const env = await setup(undefined);
    expect(env.s.ofType("attach")[0].can_preview).toBeUndefined();
    env.s.receive({ type: "preview", request_id: "4", commands: [] });
    await flush();
    expect(env.s.ofType("preview_decision")).toEqual([{ type: "preview_decision", request_id: "4", accepted: false }]);
  });
});
