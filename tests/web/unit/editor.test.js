import { beforeEach, describe, expect, it } from "vitest";
import { LiteGraph, fakeApp, newGraph, objectInfo, txt2imgBatch } from "./harness.js";
import { FakeSocket, ManualTimers, fakeConnection, flush } from "./fakes.js";
import { EditorClient, canvasIdFor, compactObjectInfo, tabId } from "../../../web/src/executor/editor.js";
import { inUndoStep } from "../../../web/src/executor/transaction.js";
import { mergeProvenance, nodesOf, workflowSignature } from "../../../web/src/executor/graphops.js";
import { graphDigest } from "../../../web/src/executor/delta.js";

function setup({ graph = newGraph(), info = objectInfo } = {}) {
  FakeSocket.reset();
  const app = fakeApp(graph);
  const prompts = [];
  app.api = {
    async queuePrompt(number, p) {
      prompts.push({ number, p });
      return { prompt_id: `p-${prompts.length}`, number: prompts.length, node_errors: {} };
    },
  };
  const timers = new ManualTimers();
  const logs = [];
  const client = new EditorClient({
    app,
    api: app.api,
    LiteGraph,
    connection: fakeConnection(),
    WebSocket: FakeSocket,
    tabId: "tab1",
    objectInfo: async () => info,
    timers,
    hasFocus: () => true,
    log: (level, text) => logs.push([level, text]),
    isPanelNode: (n) => n.type === "ComfydAgentPanel",
  });
  return { app, client, timers, prompts, logs, graph };
}

// The core's mirror of the tab, as the tab reported it on socket s up to
// and including the message `upTo`: the attach's workflow, then each
// report's whole workflow or delta applied (docs/graph-delta.md).
function applyDelta(wf, d) {
  const nodes = new Map((wf.nodes ?? []).map((n) => [n.id, n]));
  for (const id of d.removed_node_ids) nodes.delete(id);
  for (const t of d.nodes_json) {
    const n = JSON.parse(t);
    nodes.set(n.id, n);
  }
  const gone = new Set(d.removed_link_ids);
  const links = (wf.links ?? []).filter((l) => !gone.has(l[0]));
  for (const t of d.links_json) links.push(JSON.parse(t));
  return {
    ...wf,
    nodes: [...nodes.values()].sort((a, b) => a.id - b.id),
    links: links.sort((a, b) => a[0] - b[0]),
    last_node_id: d.last_node_id,
    last_link_id: d.last_link_id,
  };
}
function mirrorOf(s, upTo = null) {
  let wf = null;
  for (const m of s.sent) {
    if (m.type === "attach" || m.workflow_json) wf = m.workflow_json ? JSON.parse(m.workflow_json) : wf;
    else if (m.delta) wf = applyDelta(wf, m.delta);
    if (m === upTo) break;
  }
  return wf;
}
const byId = (wf) => [...wf.nodes].map(({ order, ...n }) => n).sort((a, b) => a.id - b.id); // eslint-disable-line no-unused-vars

async function attached(env) {
  env.client.start();
  await flush();
  const s = FakeSocket.last();
  s.open();
  s.receive({ type: "attached", canvas_id: env.client.canvasId, revision: 1 });
  return s;
}

describe("attach", () => {
  beforeEach(() => FakeSocket.reset());

  it("opens /comfy/editor/ws with the token and attaches the open workflow", async () => {
    const env = setup();
    env.client.start();
    await flush();
    const s = FakeSocket.last();
    expect(s.url).toBe("ws://127.0.0.1:8189/comfy/editor/ws?token=tok%20en%2F1");
    expect(s.protocols).toEqual([]);
    s.open();
    const [a] = s.ofType("attach");
    expect(a).toMatchObject({ type: "attach", canvas_id: canvasIdFor("tab1", "workflows/Unsaved Workflow.json"), title: "Unsaved Workflow", focused: true, tab_revision: 1 });
    expect(JSON.parse(a.workflow_json).nodes).toEqual([]);
    const info = JSON.parse(a.object_info_json);
    expect(Object.keys(info)).toHaveLength(Object.keys(objectInfo).length);
    expect(JSON.stringify(info)).not.toContain("tooltip");
  });

  it("attaches without node types when /object_info cannot be read, and asks again next time", async () => {
    const env = setup();
    let calls = 0;
    env.client.d.objectInfo = async () => {
      calls++;
      throw new Error("HTTP 500");
    };
    env.client.start();
    await flush();
    const s = FakeSocket.last();
    s.open();
    expect(s.ofType("attach")[0].object_info_json).toBe("");
    s.drop(1012);
    env.timers.advance(20000);
    await flush();
    expect(calls).toBe(2);
  });

  it("waits for the frontend's first workflow before attaching", async () => {
    const env = setup();
    const wf = env.app.extensionManager.workflow;
    const opened = wf.activeWorkflow;
    wf.activeWorkflow = null;
    env.client.start();
    await flush();
    env.timers.advance(1000);
    await flush();
    expect(FakeSocket.all).toHaveLength(0);
    wf.activeWorkflow = opened;
    env.timers.advance(250);
    await flush();
    const s = FakeSocket.last();
    s.open();
    expect(s.ofType("attach")[0].canvas_id).toBe(canvasIdFor("tab1", "workflows/Unsaved Workflow.json"));
  });

  it("keeps canvas ids bounded and distinct per workflow", () => {
    const a = canvasIdFor("tab1", "workflows/a.json");
    const b = canvasIdFor("tab1", "workflows/b.json");
    expect(a).not.toBe(b);
    expect(a.startsWith("tab1:a.json~")).toBe(true);
    expect(canvasIdFor("tab1", "x".repeat(5000)).length).toBeLessThanOrEqual(128);
  });

  it("drops the object_info when even the compact form is too large", () => {
    expect(compactObjectInfo(objectInfo, 1000)).toBe("");
    expect(compactObjectInfo(null)).toBe("");
    expect(compactObjectInfo(objectInfo).length).toBeGreaterThan(1000);
  });

  it("keeps one tab id in sessionStorage across reloads", () => {
    const store = new Map();
    const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
    const id = tabId(storage, () => "abc123");
    expect(id).toBe("abc123");
    expect(tabId(storage, () => "zzz999")).toBe("abc123");
  });
});

describe("patches", () => {
  beforeEach(() => FakeSocket.reset());

  it("applies a patch as one undo step and answers with the post-state", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 3, commands: txt2imgBatch(), expected_node_ids: [1, 2, 3, 4, 5, 6, 7], mode: "BATCH_MODE_ATOMIC" });
    await flush();
    const [r] = s.ofType("patch_result");
    expect(r).toMatchObject({ request_id: 3, ok: true, error: "", tab_revision: 2 });
    expect(r.results).toHaveLength(16);
    expect(r.results.slice(0, 7).map((x) => x.node_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.results[4]).toEqual({ index: 4, ok: true, node_id: 5 });
    // What changed goes as a delta with the digest of the whole graph.
    expect(r.workflow_json).toBeUndefined();
    expect(r.delta.nodes_json).toHaveLength(7);
    expect(r.delta.links_json).toHaveLength(9);
    expect(r.delta.digest).toBe(graphDigest(env.graph));
    const wf = mirrorOf(s, r);
    expect(wf.nodes).toHaveLength(7);
    expect(wf.links).toHaveLength(9);
    expect(byId(wf)).toEqual(byId(env.graph.serialize()));
    // One undo step: the flush pair (no change) and the patch's bracket.
    expect(env.app.tracker.events).toEqual(["before", "after", "before", "after"]);
    expect(env.app.tracker.undoQueue).toHaveLength(1);
    env.app.tracker.undo();
    expect(nodesOf(env.graph)).toHaveLength(0);
  });

  it("places a node without coordinates in the middle of the canvas's view", async () => {
    const env = setup();
    // The view: 800x600 device pixels at ratio 1, scale 2, scrolled to (-100, -50).
    env.app.canvas.ds = { offset: [-100, -50], scale: 2 };
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 5, commands: [{ type: "create_node", node_type: "VAEDecode" }] });
    await flush();
    const [r] = s.ofType("patch_result");
    expect(r.ok).toBe(true);
    const n = nodesOf(env.graph)[0];
    // Visible: x 100..500, y 50..350; the node's box (title 30 included) is centred there.
    expect(n.pos[0]).toBe(Math.round(300 - n.size[0] / 2));
    expect(n.pos[1]).toBe(Math.round(200 - (n.size[1] + 30) / 2) + 30);
  });

  it("reports the failure and the rolled-back graph of a failing patch", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 4, commands: [{ type: "create_node", node_type: "VAEDecode" }, { type: "remove_node", node_id: 99 }] });
    await flush();
    const [r] = s.ofType("patch_result");
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/no node #99/);
    expect(r.results[1].error).toEqual({ code: "NODE_NOT_FOUND", message: "node_id: no node #99", index: 1 });
    expect(r.results[0].error.code).toBe("SKIPPED");
    expect(mirrorOf(s, r).nodes).toEqual([]);
    expect(r.delta.nodes_json).toEqual([]);
    expect(env.app.tracker.undoQueue).toHaveLength(0);
  });

  // The patch of the next two tests: command 1 is valid for the core but
  // not for this tab (an INT widget takes no 12.6), the others are fine.
  const oneRefused = () => [
    { type: "move_node", node_id: 4, x: 40, y: 900 },
    { type: "set_widget", node_id: 5, name: "steps", value: 12.6 },
    { type: "set_widget", node_id: 5, name: "cfg", value: 5.5 },
    { type: "create_node", node_type: "VAEDecode", x: 1800, y: 0 },
  ];
  const widgetsOf = (wf, id) => wf.nodes.find((n) => n.id === id)?.widgets_values;

  it("reports a partial patch's failed command and the post-state that kept the others", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: txt2imgBatch() });
    await flush();
    s.receive({ type: "patch", request_id: 2, commands: oneRefused(), expected_node_ids: [8], mode: "BATCH_MODE_PARTIAL" });
    await flush();
    const r = s.ofType("patch_result")[1];
    // ok is "every command applied"; the post-state is what the core commits.
    expect(r).toMatchObject({ request_id: 2, ok: false, tab_revision: 3 });
    expect(r.error).toMatch(/steps takes an integer/);
    expect(r.results.map((x) => x.ok)).toEqual([true, false, true, true]);
    expect(r.results[1].error).toEqual({ code: "VALUE_INVALID", message: "steps takes an integer", index: 1 });
    expect(r.results[0]).toEqual({ index: 0, ok: true, node_id: 4 });
    expect(r.results[2]).toEqual({ index: 2, ok: true, node_id: 5, value: 5.5 });
    expect(r.results[3]).toEqual({ index: 3, ok: true, node_id: 8 });
    // The delta names the nodes the patch changed, no other.
    expect(r.delta.nodes_json.map((t) => JSON.parse(t).id).sort()).toEqual([4, 5, 8]);
    const wf = mirrorOf(s, r);
    expect(wf.nodes.find((n) => n.id === 4).pos).toEqual([40, 900]);
    expect(widgetsOf(wf, 5)).toEqual([42, "fixed", 20, 5.5, "euler", "normal", 1]);
    expect(wf.nodes.find((n) => n.id === 8)).toMatchObject({ type: "VAEDecode", pos: [1800, 0] });
    // The report is the tab's state: nothing is left to report as an edit.
    expect(byId(wf)).toEqual(byId(env.graph.serialize()));
    expect(r.delta.digest).toBe(graphDigest(env.graph));
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(0);
    expect(env.app.tracker.undoQueue).toHaveLength(2);
  });

  it("rolls an atomic patch with a failed command back and reports the state before it", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: txt2imgBatch() });
    await flush();
    const before = JSON.stringify(mirrorOf(s, s.ofType("patch_result")[0]));
    s.receive({ type: "patch", request_id: 2, commands: oneRefused(), expected_node_ids: [8], mode: "BATCH_MODE_ATOMIC" });
    await flush();
    const r = s.ofType("patch_result")[1];
    expect(r).toMatchObject({ request_id: 2, ok: false });
    expect(r.results[1].error.code).toBe("VALUE_INVALID");
    for (const i of [0, 2, 3]) expect(r.results[i]).toMatchObject({ ok: false, error: { code: "SKIPPED" } });
    expect(r.delta).toMatchObject({ nodes_json: [], removed_node_ids: [], links_json: [], removed_link_ids: [] });
    expect(workflowSignature(mirrorOf(s, r))).toBe(workflowSignature(JSON.parse(before)));
    expect(workflowSignature(env.graph.serialize())).toBe(workflowSignature(JSON.parse(before)));
    expect(nodesOf(env.graph)).toHaveLength(7);
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(0);
  });

  it("runs requests one at a time in arrival order", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: [{ type: "create_node", node_type: "VAEDecode", ref: "a" }] });
    s.receive({ type: "patch", request_id: 2, commands: [{ type: "move_node", node_id: 1, x: 7, y: 8 }] });
    await flush();
    expect(s.ofType("patch_result").map((r) => [r.request_id, r.ok, r.tab_revision])).toEqual([[1, true, 2], [2, true, 3]]);
  });

  it("answers a resync of a patch with that patch's answer again, carrying the whole workflow", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: txt2imgBatch() });
    s.receive({ type: "patch", request_id: 2, commands: [{ type: "move_node", node_id: 4, x: 11, y: 22 }] });
    await flush();
    const [, r] = s.ofType("patch_result");
    expect(r.delta.nodes_json.map((t) => JSON.parse(t).id)).toEqual([4]);
    // The core's digest disagreed: it names the patch, which is still in
    // flight there, and gets the same answer with the whole workflow.
    s.receive({ type: "resync", request_id: 2 });
    await flush();
    const again = s.ofType("patch_result")[2];
    expect(again).toMatchObject({ request_id: 2, ok: true, results: r.results, tab_revision: r.tab_revision });
    expect(again.delta).toBeUndefined();
    expect(byId(JSON.parse(again.workflow_json))).toEqual(byId(env.graph.serialize()));
    expect(env.client.resyncs).toBe(1);
    // Nothing is left to report as an edit; a resync of a patch this tab
    // no longer holds is only logged.
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(0);
    s.receive({ type: "resync", request_id: 99 });
    await flush();
    expect(s.sent.filter((m) => m.type === "patch_result")).toHaveLength(3);
    expect(env.logs.some(([l, t]) => l === "warn" && /request 99/.test(t))).toBe(true);
  });

  it("ignores message types outside the protocol", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "eval", code: "globalThis.pwned = 1" });
    s.receive("not json");
    await flush();
    expect(globalThis.pwned).toBeUndefined();
    expect(s.sent.filter((m) => m.type !== "attach")).toEqual([]);
    expect(env.logs.some(([, t]) => t.includes("unknown message type"))).toBe(true);
  });
});

describe("queue and load", () => {
  beforeEach(() => FakeSocket.reset());

  it("queues through the frontend and returns the prompt id", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "queue", request_id: 9, batch_count: 2 });
    await flush();
    expect(env.prompts).toHaveLength(2);
    expect(s.ofType("queue_result")[0]).toEqual({ type: "queue_result", request_id: 9, ok: true, error: "", prompt_id: "p-2", number: 2 });
  });

  // ComfyUI answers a good prompt with "node_errors": {}; frontend 1.27.10's
  // app.queuePrompt() returns !lastNodeErrors, which is false for {}. The
  // run is judged from ComfyUI's answer, whatever the frontend returns.
  for (const [version, ret] of [
    ["1.27.10", (errs) => !errs],
    ["newest", () => true],
    ["one that returns nothing", () => undefined],
  ]) {
    it(`judges a queued prompt from ComfyUI's answer (frontend ${version})`, async () => {
      const env = setup();
      env.app.queuePrompt = async function (number, batchCount) {
        let lastNodeErrors = null;
        for (let i = 0; i < batchCount; i++) {
          const res = await this.api.queuePrompt(number, { output: {}, workflow: {} });
          lastNodeErrors = res.node_errors ?? null;
        }
        return ret(lastNodeErrors);
      };
      const s = await attached(env);
      s.receive({ type: "queue", request_id: 21, batch_count: 1 });
      await flush();
      expect(s.ofType("queue_result")[0]).toEqual({ type: "queue_result", request_id: 21, ok: true, error: "", prompt_id: "p-1", number: 1 });
    });
  }

  it("reports a prompt ComfyUI queued with some outputs refused as queued", async () => {
    const env = setup();
    env.app.api.queuePrompt = async () => ({ prompt_id: "p-x", number: 4, node_errors: { 7: { errors: [{ message: "bad" }] } } });
    env.app.queuePrompt = async function () {
      const res = await this.api.queuePrompt(0, {});
      return !res.node_errors;
    };
    const s = await attached(env);
    s.receive({ type: "queue", request_id: 22, batch_count: 1 });
    await flush();
    expect(s.ofType("queue_result")[0]).toMatchObject({ ok: true, prompt_id: "p-x", number: 4 });
  });

  it("reports a frontend that queued nothing (busy with another queue)", async () => {
    const env = setup();
    env.app.queuePrompt = async () => false;
    const s = await attached(env);
    s.receive({ type: "queue", request_id: 23, batch_count: 1 });
    await flush();
    expect(s.ofType("queue_result")[0]).toMatchObject({ ok: false, prompt_id: "" });
    expect(s.ofType("queue_result")[0].error).toMatch(/did not queue/);
  });

  it("hands the converted prompt to the core when asked (prompt_only)", async () => {
    const env = setup();
    const calls = [];
    env.app.graphToPrompt = async (g) => {
      calls.push(g === env.graph);
      return { output: { 1: { class_type: "EmptyImage", inputs: { width: 64 } } }, workflow: { nodes: [] } };
    };
    const s = await attached(env);
    s.receive({ type: "queue", request_id: 24, batch_count: 1, prompt_only: true });
    await flush();
    expect(env.prompts).toHaveLength(0);
    expect(calls).toEqual([true]);
    const [r] = s.ofType("queue_result");
    expect(r).toMatchObject({ ok: true, prompt_id: "", request_id: 24 });
    expect(JSON.parse(r.prompt_json)).toEqual({ 1: { class_type: "EmptyImage", inputs: { width: 64 } } });
    expect(JSON.parse(r.workflow_json)).toEqual({ nodes: [] });
  });

  it("reports a conversion failure (prompt_only)", async () => {
    const env = setup();
    env.app.graphToPrompt = async () => {
      throw new Error("boom");
    };
    const s = await attached(env);
    s.receive({ type: "queue", request_id: 25, prompt_only: true });
    await flush();
    expect(s.ofType("queue_result")[0]).toMatchObject({ ok: false, error: "cannot convert the workflow: boom" });
  });

  it("reports a refused prompt with the server's reason", async () => {
    const env = setup();
    env.app.api.queuePrompt = async () => {
      const e = new Error("400");
      e.response = { error: { message: "Prompt outputs failed validation" }, node_errors: { 3: {} } };
      throw e;
    };
    env.app.queuePrompt = async function () {
      try {
        await this.api.queuePrompt(0, {});
      } catch {
        return false;
      }
      return true;
    };
    const s = await attached(env);
    s.receive({ type: "queue", request_id: 10, batch_count: 1 });
    await flush();
    expect(s.ofType("queue_result")[0]).toMatchObject({ ok: false, error: "Prompt outputs failed validation (nodes 3)", prompt_id: "" });
  });

  it("loads a workflow and answers with what the graph holds", async () => {
    const env = setup();
    const s = await attached(env);
    const g2 = newGraph();
    const { applyPatch } = await import("../../../web/src/executor/commands.js");
    applyPatch({ graph: g2, LiteGraph }, { commands: txt2imgBatch() });
    s.receive({ type: "load", request_id: 11, workflow_json: JSON.stringify(g2.serialize()) });
    await flush();
    const [r] = s.ofType("load_result");
    expect(r.ok).toBe(true);
    expect(JSON.parse(r.workflow_json).nodes).toHaveLength(7);
    expect(nodesOf(env.graph)).toHaveLength(7);
    // A load is not reported again as the user's edit.
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(0);
    s.receive({ type: "load", request_id: 12, workflow_json: "{nope" });
    await flush();
    expect(s.ofType("load_result")[1]).toMatchObject({ ok: false, workflow_json: "" });
  });

  it("applies a load with undo_step (a revert's checkpoint) into the open graph as one undo step", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 3, commands: txt2imgBatch(), mode: "BATCH_MODE_ATOMIC" });
    await flush();
    expect(nodesOf(env.graph)).toHaveLength(7);
    const checkpoint = { ...env.graph.serialize() };
    s.receive({ type: "patch", request_id: 4, commands: [{ type: "remove_node", node_id: 7 }, { type: "remove_node", node_id: 6 }], mode: "BATCH_MODE_ATOMIC" });
    await flush();
    expect(nodesOf(env.graph)).toHaveLength(5);
    let loaded = 0;
    env.app.loadGraphData = async () => {
      loaded++;
    };
    const before = env.app.tracker.undoQueue.length;
    s.receive({ type: "load", request_id: 13, workflow_json: JSON.stringify(checkpoint), undo_step: true });
    await flush();
    const r = s.ofType("load_result").at(-1);
    expect(r).toMatchObject({ request_id: 13, ok: true });
    expect(JSON.parse(r.workflow_json).nodes).toHaveLength(7);
    expect(nodesOf(env.graph)).toHaveLength(7);
    // Not a workflow load: the open workflow's graph, one more undo step.
    expect(loaded).toBe(0);
    expect(env.app.tracker.undoQueue).toHaveLength(before + 1);
    // The restore is the core's, not reported back as the user's edit.
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(0);
    env.app.tracker.undo();
    expect(nodesOf(env.graph)).toHaveLength(5);
  });
});

describe("user edits and focus", () => {
  beforeEach(() => FakeSocket.reset());

  it("reports the user's edit once, and not the executor's own patch", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: [{ type: "create_node", node_type: "VAEDecode" }] });
    await flush();
    env.timers.advance(3000);
    expect(s.ofType("user_edit")).toHaveLength(0);
    // The user moves the node.
    nodesOf(env.graph)[0].pos = [400, 400];
    env.client.graphChanged();
    env.client.graphChanged();
    env.timers.advance(200);
    const edits = s.ofType("user_edit");
    expect(edits).toHaveLength(1);
    expect(edits[0].tab_revision).toBe(3);
    // As a delta: the moved node alone, with the digest of the whole graph.
    expect(edits[0].workflow_json).toBeUndefined();
    expect(edits[0].delta.nodes_json.map((t) => JSON.parse(t).pos)).toEqual([[400, 400]]);
    expect(edits[0].delta.digest).toBe(graphDigest(env.graph));
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(1);
  });

  it("does not report the states in between of a drag, only where it ends", async () => {
    const env = setup();
    const s = await attached(env);
    const n = LiteGraph.createNode("VAEDecode");
    inUndoStep(env.app, () => env.graph.add(n));
    env.timers.advance(1600);
    expect(s.ofType("user_edit")).toHaveLength(1);
    env.client.setPointerDown(true);
    n.pos = [50, 50];
    env.timers.advance(1600);
    n.pos = [90, 90];
    env.timers.advance(1600);
    expect(s.ofType("user_edit")).toHaveLength(1);
    env.client.setPointerDown(false);
    env.timers.advance(200);
    const edits = s.ofType("user_edit");
    expect(edits).toHaveLength(2);
    expect(edits[1].delta.nodes_json.map((t) => JSON.parse(t).pos)).toEqual([[90, 90]]);
  });

  it("reports edits as deltas against what it last reported, and the whole workflow on a resync", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: txt2imgBatch() });
    await flush();
    const [pr] = s.ofType("patch_result");
    expect(pr.ok).toBe(true);
    expect(mirrorOf(s, pr).nodes).toHaveLength(7);
    const nodes = nodesOf(env.graph);
    const byType = (t) => nodes.find((n) => n.type === t);
    const edits = () => s.ofType("user_edit");

    // The user deletes the VAE decoder: it goes, with its three links
    // (samples, vae, image); the nodes at their other ends changed slots
    // and are listed.
    const vae = byType("VAEDecode");
    const linksBefore = new Set(mirrorOf(s, pr).links.map((l) => l[0]));
    inUndoStep(env.app, () => env.graph.remove(vae));
    env.timers.advance(1600);
    expect(edits()).toHaveLength(1);
    let d = edits()[0].delta;
    expect(d.removed_node_ids).toEqual([vae.id]);
    expect(d.removed_link_ids.length).toBe(3);
    for (const id of d.removed_link_ids) expect(linksBefore.has(id)).toBe(true);
    expect(d.nodes_json.map((t) => JSON.parse(t).type).sort()).toEqual(["CheckpointLoaderSimple", "KSampler", "SaveImage"]);
    expect(d.links_json).toEqual([]);
    expect(d.digest).toBe(graphDigest(env.graph));
    expect(d.last_node_id).toBeGreaterThanOrEqual(7);

    // A new node and a link to it: the link in links_json, both ends listed.
    const dec = LiteGraph.createNode("VAEDecode");
    inUndoStep(env.app, () => {
      env.graph.add(dec);
      byType("KSampler").connect(0, dec, 0);
    });
    env.timers.advance(1600);
    d = edits()[1].delta;
    expect(d.links_json).toHaveLength(1);
    const link = JSON.parse(d.links_json[0]);
    expect([link[1], link[3]]).toEqual([byType("KSampler").id, dec.id]);
    expect(d.nodes_json.map((t) => JSON.parse(t).id).sort()).toEqual([byType("KSampler").id, dec.id].sort());
    expect(d.removed_node_ids).toEqual([]);
    expect(d.digest).toBe(graphDigest(env.graph));

    // The core could not use it: the whole workflow follows.
    s.receive({ type: "resync", request_id: 0 });
    await flush();
    expect(edits()).toHaveLength(3);
    expect(edits()[2].delta).toBeUndefined();
    expect(JSON.parse(edits()[2].workflow_json).nodes).toHaveLength(7);

    // A change a delta cannot carry (a group): the whole workflow.
    const group = new LiteGraph.LGraphGroup("g");
    inUndoStep(env.app, () => env.graph.add(group));
    env.timers.advance(1600);
    expect(edits()).toHaveLength(4);
    expect(JSON.parse(edits()[3].workflow_json).groups).toHaveLength(1);
    // And the next plain edit is a delta again.
    dec.pos = [900, 900];
    env.timers.advance(1600);
    expect(edits()[4].delta.nodes_json.map((t) => JSON.parse(t).id)).toEqual([dec.id]);
  });

  it("keeps the provenance of a report_ack in extra.comfyd.provenance, which is not an edit", async () => {
    const env = setup();
    const s = await attached(env);
    inUndoStep(env.app, () => env.graph.add(LiteGraph.createNode("VAEDecode")));
    env.timers.advance(1600);
    expect(s.ofType("user_edit")).toHaveLength(1);
    // ComfyUI's change tracker holds a snapshot of the current state.
    const tracker = { activeState: { ...JSON.parse(JSON.stringify(env.graph.serialize())), extra: { ds: { scale: 2 }, other: 1 } } };
    env.app.extensionManager.workflow.activeWorkflow.changeTracker = tracker;
    const prov = { v: 1, revision: 2, actors: [{ kind: "user" }], nodes: { 1: { by: 0, rev: 2, at: 5 } }, links: {} };
    s.receive({ type: "report_ack", report: "user_edit", revision: 2, provenance_json: JSON.stringify(prov) });
    await flush();
    expect(env.graph.serialize().extra.comfyd.provenance).toEqual(prov);
    // The tracker's snapshot has it too (no undo step), and keeps the rest.
    expect(tracker.activeState.extra).toEqual({ ds: { scale: 2 }, other: 1, comfyd: { provenance: prov } });
    // Storing it changes nothing the core is told about.
    env.client.graphChanged();
    env.timers.advance(5000);
    expect(s.ofType("user_edit")).toHaveLength(1);
    // A later edit goes as a delta (the provenance is the core's own); a
    // full report carries it with the workflow (a save keeps it).
    nodesOf(env.graph)[0].pos = [300, 300];
    env.client.graphChanged();
    env.timers.advance(200);
    let edits = s.ofType("user_edit");
    expect(edits).toHaveLength(2);
    expect(edits[1].delta.nodes_json).toHaveLength(1);
    s.receive({ type: "resync", request_id: 0 });
    await flush();
    edits = s.ofType("user_edit");
    expect(edits).toHaveLength(3);
    expect(JSON.parse(edits[2].workflow_json).extra.comfyd.provenance).toEqual(prov);
    // Malformed provenance is ignored.
    s.receive({ type: "report_ack", report: "user_edit", revision: 3, provenance_json: "{nope" });
    await flush();
    expect(env.graph.serialize().extra.comfyd.provenance).toEqual(prov);
  });

  it("holds a report_ack's provenance back while ComfyUI restores an undo step", async () => {
    const env = setup();
    const s = await attached(env);
    inUndoStep(env.app, () => env.graph.add(LiteGraph.createNode("VAEDecode")));
    env.timers.advance(1600);
    expect(s.ofType("user_edit")).toHaveLength(1);
    // Ctrl+Z: the tracker is loading the previous state (updateState awaits
    // loadGraphData), and takes it as its activeState only afterwards.
    const before = JSON.parse(JSON.stringify(env.graph.serialize()));
    const tracker = { _restoringState: true, activeState: { ...before, extra: {} } };
    env.app.extensionManager.workflow.activeWorkflow.changeTracker = tracker;
    const prov = { v: 1, revision: 2, actors: [{ kind: "user" }], nodes: { 1: { by: 0, rev: 2, at: 5 } }, links: {} };
    s.receive({ type: "report_ack", report: "user_edit", revision: 2, provenance_json: JSON.stringify(prov) });
    await flush();
    // Nothing written into the graph the tracker is replacing.
    expect(env.graph.serialize().extra?.comfyd?.provenance).toBeUndefined();
    env.timers.advance(1600);
    expect(env.graph.serialize().extra?.comfyd?.provenance).toBeUndefined();
    // The restore ends (activeState is the restored state): the next edit
    // check stores it, in the tracker's snapshot too, so it is no undo step.
    tracker._restoringState = false;
    tracker.activeState = JSON.parse(JSON.stringify(env.graph.serialize()));
    env.timers.advance(1600);
    expect(env.graph.serialize().extra.comfyd.provenance).toEqual(prov);
    expect(tracker.activeState.extra.comfyd.provenance).toEqual(prov);
    expect(s.ofType("user_edit")).toHaveLength(1);
  });

  it("merges a report_ack's changed provenance records into what it holds", async () => {
    const env = setup();
    const s = await attached(env);
    s.receive({ type: "patch", request_id: 1, commands: txt2imgBatch() });
    await flush();
    const user = { kind: "user" };
    const mcp = { kind: "mcp", name: "claude-code" };
    const skill = { kind: "skill", session_id: "s1", skill: "workflow-builder" };
    const full = {
      v: 1,
      revision: 2,
      actors: [mcp, user],
      nodes: { 1: { by: 0, rev: 2, at: 5 }, 4: { by: 1, rev: 2, at: 5, widgets: { seed: { by: 0, rev: 2, at: 5 } } }, 7: { by: 0, rev: 2, at: 5 } },
      links: { 1: { by: 0, rev: 2, at: 5 }, 2: { by: 1, rev: 2, at: 5 } },
    };
    s.receive({ type: "report_ack", report: "patch_result", revision: 2, provenance_json: JSON.stringify(full) });
    await flush();
    const held = () => env.graph.serialize().extra.comfyd.provenance;
    expect(held()).toEqual(full);
    // Node 7 and link 2 are gone; node 4 changed (by a skill), node 5 is new.
    const seven = nodesOf(env.graph).find((n) => n.id === 7);
    inUndoStep(env.app, () => env.graph.remove(seven));
    if (env.graph.links.get?.(2) || env.graph.links[2]) env.graph.removeLink(2);
    const part = {
      v: 1,
      revision: 3,
      since: 2,
      actors: [skill, user],
      nodes: { 4: { by: 0, rev: 3, at: 9, created: { by: 1, rev: 3, at: 9 } }, 5: { by: 1, rev: 3, at: 9 } },
      links: {},
    };
    s.receive({ type: "report_ack", report: "patch_result", revision: 3, provenance_json: JSON.stringify(part) });
    await flush();
    expect(held()).toEqual({
      v: 1,
      revision: 3,
      actors: [mcp, user, skill],
      nodes: { 1: { by: 0, rev: 2, at: 5 }, 4: { by: 2, rev: 3, at: 9, created: { by: 1, rev: 3, at: 9 } }, 5: { by: 1, rev: 3, at: 9 } },
      links: { 1: { by: 0, rev: 2, at: 5 } },
    });
    // Changes that do not follow what it holds (since 7, it holds 3) are
    // kept out; so is a record naming no actor.
    s.receive({ type: "report_ack", report: "patch_result", revision: 8, provenance_json: JSON.stringify({ ...part, revision: 8, since: 7 }) });
    s.receive({ type: "report_ack", report: "patch_result", revision: 4, provenance_json: JSON.stringify({ ...part, revision: 4, since: 3, nodes: { 1: { by: 9, rev: 4, at: 1 } } }) });
    await flush();
    expect(held().revision).toBe(3);
  });

  it("drops the actors no record uses once more than 64 pile up in a merged provenance", () => {
    const graph = newGraph();
    const n = LiteGraph.createNode("VAEDecode");
    graph.add(n);
    let cur = { v: 1, revision: 1, actors: [{ kind: "user" }], nodes: { [n.id]: { by: 0, rev: 1, at: 1 } }, links: {} };
    // Seventy callers in turn change the one node: each partial names one.
    for (let i = 0; i < 70; i++) {
      const part = { v: 1, revision: i + 2, since: i + 1, actors: [{ kind: "mcp", name: `c${i}` }], nodes: { [n.id]: { by: 0, rev: i + 2, at: 1 } }, links: {} };
      cur = mergeProvenance(graph, cur, part);
      expect(cur.actors[cur.nodes[n.id].by]).toEqual({ kind: "mcp", name: `c${i}` });
    }
    expect(cur.actors.length).toBeLessThanOrEqual(65);
    expect(cur.revision).toBe(71);
  });

  it("finds edits that raised no event by polling", async () => {
    const env = setup();
    const s = await attached(env);
    inUndoStep(env.app, () => env.graph.add(LiteGraph.createNode("VAEDecode")));
    env.timers.advance(1600);
    expect(s.ofType("user_edit")).toHaveLength(1);
  });

  it("sends focus changes", async () => {
    const env = setup();
    const s = await attached(env);
    env.client.setFocus(false);
    env.client.setFocus(false);
    env.client.setFocus(true);
    expect(s.ofType("focus").map((m) => m.focused)).toEqual([false, true]);
  });

  it("re-announces focus when the user works in the tab, at most once a second", async () => {
    const env = setup();
    const s = await attached(env);
    env.timers.advance(5000);
    env.client.touched();
    env.client.touched();
    expect(s.ofType("focus")).toHaveLength(1);
    env.timers.advance(1001);
    env.client.touched();
    expect(s.ofType("focus").map((m) => m.focused)).toEqual([true, true]);
  });
});

describe("reconnecting", () => {
  beforeEach(() => FakeSocket.reset());

  it("reconnects with backoff after the bridge goes away and re-attaches the current graph", async () => {
    const env = setup();
    const s = await attached(env);
    env.graph.add(LiteGraph.createNode("VAEDecode"));
    s.drop(1012);
    expect(FakeSocket.all).toHaveLength(1);
    env.timers.advance(10000);
    await flush();
    expect(FakeSocket.all.length).toBeGreaterThanOrEqual(2);
    const s2 = FakeSocket.last();
    s2.open();
    const [a] = s2.ofType("attach");
    expect(a.canvas_id).toBe(env.client.canvasId);
    expect(JSON.parse(a.workflow_json).nodes).toHaveLength(1);
    expect(a.tab_revision).toBeGreaterThan(1);
  });

  it("keeps retrying while the connection info is not available", async () => {
    const env = setup();
    let fail = 2;
    const conn = env.client.d.connection;
    const real = conn.get.bind(conn);
    conn.get = async () => {
      if (fail-- > 0) throw new Error("comfyd is starting");
      return real();
    };
    env.client.start();
    await flush();
    expect(FakeSocket.all).toHaveLength(0);
    for (let i = 0; i < 3; i++) {
      env.timers.advance(20000);
      await flush();
    }
    expect(FakeSocket.all).toHaveLength(1);
    expect(conn.invalidated).toBe(2);
  });

  it("stays away after being replaced (1000) until the tab is focused again", async () => {
    const env = setup();
    const s = await attached(env);
    env.client.setFocus(false);
    s.drop(1000);
    env.timers.advance(60000);
    await flush();
    expect(FakeSocket.all).toHaveLength(1);
    env.client.setFocus(true);
    await flush();
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("re-attaches as another canvas when the open workflow changes", async () => {
    const env = setup();
    const s = await attached(env);
    const first = env.client.canvasId;
    env.app.extensionManager.workflow.activeWorkflow = { path: "workflows/other.json", filename: "other" };
    env.client.graphChanged();
    env.timers.advance(200);
    await flush();
    expect(s.closed).toBeTruthy();
    const s2 = FakeSocket.last();
    s2.open();
    const [a] = s2.ofType("attach");
    expect(a.canvas_id).not.toBe(first);
    expect(a.title).toBe("other");
  });
});

describe("a switched workflow", () => {
  beforeEach(() => FakeSocket.reset());

  it("refuses a patch meant for the workflow the user left, and attaches the open one", async () => {
    const env = setup();
    const s = await attached(env);
    env.app.extensionManager.workflow.activeWorkflow = { path: "workflows/other.json", filename: "other" };
    s.receive({ type: "patch", request_id: 5, commands: [{ type: "create_node", node_type: "VAEDecode" }] });
    await flush();
    expect(s.ofType("patch_result")[0]).toMatchObject({ request_id: 5, ok: false, error: expect.stringMatching(/switched/) });
    expect(nodesOf(env.graph)).toHaveLength(0);
    await flush();
    const s2 = FakeSocket.last();
    expect(s2).not.toBe(s);
    s2.open();
    expect(s2.ofType("attach")[0].title).toBe("other");
  });
});

describe("inUndoStep", () => {
  it("closes its bracket when the work throws", () => {
    const app = fakeApp(newGraph());
    expect(() => inUndoStep(app, () => {
      throw new Error("boom");
    })).toThrow("boom");
    expect(app.tracker.changeCount).toBe(0);
    expect(app.tracker.events).toEqual(["before", "after", "before", "after"]);
  });

  it("puts a pending user edit into its own step before the patch", () => {
    const g = newGraph();
    const app = fakeApp(g);
    g.add(LiteGraph.createNode("VAEDecode")); // the user's, not captured yet
    inUndoStep(app, () => g.add(LiteGraph.createNode("SaveImage")));
    expect(app.tracker.undoQueue).toHaveLength(2);
    app.tracker.undo();
    expect(nodesOf(g).map((n) => n.type)).toEqual(["VAEDecode"]);
  });

  it("falls back to the graph's hooks without a canvas", () => {
    const calls = [];
    const app = { rootGraph: { beforeChange: () => calls.push("b"), afterChange: () => calls.push("a") } };
    expect(inUndoStep(app, () => 7)).toBe(7);
    expect(calls).toEqual(["b", "a", "b", "a"]);
  });
});
