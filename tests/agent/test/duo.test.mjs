// Two skills answer one message at once (workflow-builder and
// prompt-writer, each with its own script: tests/llm/scripts/
// agent-duo.<skill>.json). Both read the canvas at the same revision; the
// builder patches half a second later, the prompt writer two seconds later.
// The writer's patch, built on the older read, also sets the sampler's cfg
// the builder just changed: it does not commute, so it is refused as stale
// with that conflict named instead of overwriting (a patch on other nodes
// would have been rebased: tests/graph/test/rebase.test.mjs); the writer
// reads again and its patch lands. Both replies and both changes are there
// at the end. The turn's canvas checkpoint is the workflow from before the
// first patch (not the state between the two), and a revert with the canvas
// brings that back.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { get, post } from "../../graph/lib/clients.mjs";
import { assertSameGraph, editorView } from "../../graph/lib/graph.mjs";
import { SessionWs, eventsOf, fixtureWorkflow, repliesOf, startFakeLlm } from "../lib.mjs";

const FOX = "a red fox in fresh snow, golden hour, telephoto";

describe("two skills on one message", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("both replies and both patches land; the conflicting stale one is refused with its conflict and retried on the fresh state", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: "tab-duo", title: "txt2img", workflow: fixtureWorkflow() });
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({
      model: "agent-duo",
      skills: ["workflow-builder", "prompt-writer"],
      baseUrl: llm.baseUrl,
    });
    const beforeTurn = editorView(ed);
    const { turnId, from } = await s.send(sid, "A fox in the snow, and make the sampler a bit finer.");
    const evs = await s.turnEnd(from);

    const replies = repliesOf(evs);
    assert.equal(replies["workflow-builder"]?.state, "done", JSON.stringify(replies));
    assert.equal(replies["prompt-writer"]?.state, "done", JSON.stringify(replies));
    assert.match(replies["workflow-builder"].content, /30 steps at cfg 6\.5/);
    assert.match(replies["prompt-writer"].content, /red fox/);

    // The skills ran at once: the prompt writer's first read happened
    // before the builder's patch was applied.
    const calls = evs.filter((e) => e.event === "tool_call").map((e) => `${e.data.skill}:${e.data.call_id}`);
    assert.ok(calls.indexOf("prompt-writer:call_1") < calls.indexOf("workflow-builder:call_2"), calls.join(" "));

    const builder = eventsOf(evs, "tool_result", "workflow-builder").map((e) => JSON.parse(e.data.result_json));
    assert.equal(builder[1].ok, true);
    const writer = eventsOf(evs, "tool_result", "prompt-writer");
    assert.deepEqual(writer.map((e) => e.data.ok), [true, false, true, true]);
    const stale = JSON.parse(writer[1].data.result_json);
    assert.equal(stale.errors[0].code, "STALE_REVISION");
    assert.match(stale.hint, /Call get_graph/);
    assert.equal(stale.revision, builder[1].revision);
    // The conflict named exactly: its second command against the builder's cfg.
    const c = stale.errors.find((e) => e.index === 1)?.conflicts;
    assert.deepEqual(
      c?.map((x) => [x.index, x.node_id, x.widget, x.revision, x.origin, x.current_value]),
      [[1, 3, "cfg", builder[1].revision, "agent", 6.5]],
      JSON.stringify(stale),
    );
    const reread = JSON.parse(writer[2].data.result_json);
    assert.equal(reread.revision, builder[1].revision);
    const landed = JSON.parse(writer[3].data.result_json);
    assert.equal(landed.revision, builder[1].revision + 1);

    // Each skill walked its own script.
    const models = llm.requests().map((r) => r.model);
    assert.equal(models.filter((m) => m === "agent-duo.workflow-builder").length, 3);
    assert.equal(models.filter((m) => m === "agent-duo.prompt-writer").length, 5);

    // The tab applied exactly the two patches; both changes are there.
    assert.equal(ed.patches.length, 2);
    const w3 = ed.widgetsOf(3);
    assert.equal(w3.steps, 30);
    assert.equal(w3.cfg, 6.5);
    assert.equal(ed.widgetsOf(6).text, FOX);
    const g = await post(stack, "/comfy/graph/command", { type: "get_graph", canvas_id: "tab-duo" });
    assertSameGraph(g.json.graph, ed);

    // One checkpoint for the turn: from before the builder's patch, up to
    // the writer's; the refused patch in between did not retake it.
    const cps = await get(stack, `/comfy/sessions/${sid}/checkpoints`);
    assert.equal(cps.status, 200, cps.text);
    assert.equal(cps.json.checkpoints.length, 1, cps.text);
    assert.equal(Number(cps.json.checkpoints[0].revision_before), builder[1].revision - 1, cps.text);
    assert.equal(Number(cps.json.checkpoints[0].revision_after), landed.revision, cps.text);
    const rv = await post(stack, `/comfy/sessions/${sid}/revert`, { message_id: turnId, restore_canvas: true });
    assert.equal(rv.status, 200, rv.text);
    assert.deepEqual(editorView(ed), beforeTurn);
    s.close();
  });
});
