// An invalid patch proposed by the model (MODEL into a LATENT input and a
// misspelled widget; tests/llm/scripts/agent-fix.json) is refused before it
// reaches the tab, every error goes back to the model with its code and
// suggestions (checked in the request the model server received), and the
// model's corrected patch lands.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { post } from "../../graph/lib/clients.mjs";
import { assertSameGraph } from "../../graph/lib/graph.mjs";
import { SessionWs, eventsOf, fixtureWorkflow, repliesOf, startFakeLlm, toolMessages } from "../lib.mjs";

describe("an invalid patch goes back to the model", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("is refused with every error and the corrected patch is applied", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: "tab-fix", title: "txt2img", workflow: fixtureWorkflow() });
    const before = ed.workflowJson();
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-fix", skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    const { from } = await s.send(sid, "Use 30 steps.");
    const evs = await s.turnEnd(from);
    assert.equal(repliesOf(evs)["workflow-builder"]?.state, "done");

    const results = eventsOf(evs, "tool_result", "workflow-builder");
    assert.deepEqual(results.map((r) => [r.data.call_id, r.data.ok]), [["call_read", true], ["call_bad", false], ["call_good", true]]);
    const refused = JSON.parse(results[1].data.result_json);
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.errors.map((e) => [e.index, e.code]), [[0, "TYPE_MISMATCH"], [1, "WIDGET_NOT_FOUND"]]);
    assert.equal(refused.results, undefined);
    // A refused tool call is also a warning in the session's log.
    assert.ok(eventsOf(evs, "debug_log").some((e) => e.data.level === "WARN" && /tool apply_patch failed/.test(e.data.message)));

    // The refusal is what the model read next.
    const reqs = llm.requests().filter((r) => r.model === "agent-fix");
    assert.equal(reqs.length, 4);
    const sent = toolMessages(reqs[2]).find((m) => m.tool_call_id === "call_bad");
    const err = JSON.parse(sent.content);
    assert.equal(err.errors[0].code, "TYPE_MISMATCH");
    assert.match(err.errors[0].message, /MODEL/);
    assert.equal(err.errors[1].suggestions[0], "steps");
    assert.match(err.hint, /applies nothing/);

    // Only the corrected patch reached the tab.
    assert.equal(ed.patches.length, 1);
    assert.deepEqual(ed.patches[0].commands.map((c) => [c.type, c.name, c.value]), [["set_widget", "steps", 30]]);
    assert.equal(ed.widgetsOf(3).steps, 30);
    const after = JSON.parse(ed.workflowJson());
    const was = JSON.parse(before);
    assert.deepEqual(after.links, was.links, "no link changed");
    const g = await post(stack, "/comfy/graph/command", { type: "get_graph", canvas_id: "tab-fix" });
    assertSameGraph(g.json.graph, ed);
    s.close();
  });
});
