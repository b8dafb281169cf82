// set_node_mode through the bridge: mute, bypass and enable a node of a live
// canvas (the headless editor applies it with the tab's executor), the
// mirror and the results carry the mode, a user's mute shows in the diff as
// a replayable set_node_mode, and bad modes are refused by the core before
// anything reaches the tab.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectGraphOk, expectOk, expectStatus } from "../lib/harness.mjs";
import { post, get } from "../lib/clients.mjs";
import { txt2imgCommands, assertSameGraph } from "../lib/graph.mjs";

const CANVAS = "tab-1:node-mode";

describe("set_node_mode: mute and bypass", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  const graphNow = async () => expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS }));
  const modeOf = (g, id) => Number(g.nodes.find((n) => Number(n.id) === id).mode ?? 0);

  it("an editor attaches and txt2img is built", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "node mode" });
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/batch", { commands: txt2imgCommands(), canvas_id: CANVAS }));
    refs = body.refs;
  });

  it("mute, bypass and enable: the tab's node, the result and the mirror agree", async () => {
    const id = Number(refs.sampler);
    for (const [mode, want] of [["bypass", 4], ["never", 2], ["always", 0], ["mute", 2]]) {
      const body = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "set_node_mode", node_id: id, mode, canvas_id: CANVAS }));
      assert.equal(Number(body.result.node_id), id);
      assert.equal(Number(body.result.node.mode ?? 0), want, mode);
      assert.equal(ed.graph.getNodeById(id).mode, want, mode);
      const g = await graphNow();
      assert.equal(modeOf(g.graph, id), want);
      assertSameGraph(g.graph, ed);
    }
    // In a batch, by the ref of a node created in it.
    const body = expectGraphOk(await post(h.stack, "/comfy/graph/batch", {
      canvas_id: CANVAS,
      commands: [
        { type: "create_node", node_type: "PreviewImage", ref: "p", x: 2000, y: 100 },
        { type: "set_node_mode", node_id: "p", mode: "bypass" },
      ],
    }));
    assert.equal(ed.graph.getNodeById(Number(body.refs.p)).mode, 4);
  });

  it("a user's mute is in the diff as a set_node_mode the agent could replay", async () => {
    const r0 = Number((await graphNow()).revision);
    const id = Number(refs.decode);
    await ed.userEdit((g) => {
      g.getNodeById(id).mode = 2;
    });
    const diff = expectOk(await get(h.stack, `/comfy/graph/diff?since=${r0}&canvas_id=${encodeURIComponent(CANVAS)}`));
    const op = (diff.ops ?? []).find((o) => /^muted #/.test(o.summary));
    assert.ok(op, JSON.stringify(diff));
    assert.equal(op.origin, "GRAPH_ORIGIN_USER");
    assert.equal(op.command.type, "set_node_mode");
    assert.equal(Number(op.command.node_id), id);
    assert.equal(op.command.mode, "never");
  });

  it("a bad mode or node is refused by the core and never reaches the tab", async () => {
    const patches = ed.patches.length;
    const id = Number(refs.sampler);
    const before = ed.graph.getNodeById(id).mode;
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "set_node_mode", node_id: id, mode: "off", canvas_id: CANVAS }), 422, "INVALID_COMMAND");
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "set_node_mode", node_id: id, canvas_id: CANVAS }), 422, "INVALID_COMMAND");
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "set_node_mode", node_id: 9999, mode: "bypass", canvas_id: CANVAS }), 422, "NODE_NOT_FOUND");
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "set_node_mode", node_id: id, mode: 4, canvas_id: CANVAS }), 400);
    expectStatus(await post(h.stack, "/comfy/graph/command", { type: "set_node_mode", node_id: id, mode: "x".repeat(2000), canvas_id: CANVAS }), 400);
    assert.equal(ed.patches.length, patches);
    assert.equal(ed.graph.getNodeById(id).mode, before);
  });
});
