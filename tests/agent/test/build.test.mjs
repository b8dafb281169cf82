// workflow-builder builds the text-to-image workflow on an empty canvas
// from scripted tool calls (tests/llm/scripts/agent-build.json): every call
// and result is a session event, the patch goes through validation to the
// headless editor once, and the editor's LiteGraph graph ends up as the
// txt2img workflow with the core's mirror equal to it. A second turn after
// the user moved a node is told about the move in its canvas note.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { post } from "../../graph/lib/clients.mjs";
import { TXT2IMG_LINKS, TXT2IMG_TYPES, TXT2IMG_WIDGETS, assertSameGraph, editorView } from "../../graph/lib/graph.mjs";
import { SessionWs, eventsOf, repliesOf, startFakeLlm, systemText, toolMessages } from "../lib.mjs";

const TOOLS = ["get_graph", "search_node_types", "get_node_schema", "validate_patch", "apply_patch", "queue", "run", "get_run", "view_output", "remember", "recall"];

describe("workflow-builder builds txt2img", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("scripted tool calls build the workflow in the editor, and the next turn hears of the user's edit", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: "tab-1", title: "agent canvas" });
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-build", skills: ["workflow-builder"], baseUrl: llm.baseUrl });

    const { from } = await s.send(sid, "Build a text-to-image workflow.");
    const evs = await s.turnEnd(from);
    const reply = repliesOf(evs)["workflow-builder"];
    assert.equal(reply?.state, "done", JSON.stringify(reply));
    assert.match(reply.content, /^Let me look at the canvas\.\n\nI built a text-to-image workflow/);

    // Every tool call and its result is an event, in order.
    const calls = eventsOf(evs, "tool_call", "workflow-builder").map((e) => e.data.name);
    assert.deepEqual(calls, ["get_graph", "search_node_types", "get_node_schema", "validate_patch", "apply_patch", "get_graph"]);
    const results = eventsOf(evs, "tool_result", "workflow-builder");
    assert.equal(results.length, 6);
    for (const r of results) assert.equal(r.data.ok, true, r.data.result_json);
    const applied = JSON.parse(results[4].data.result_json);
    assert.equal(applied.ok, true);
    assert.equal(applied.canvas_id, "tab-1");
    assert.deepEqual(Object.keys(applied.refs).sort(), Object.keys(TXT2IMG_TYPES).sort());
    const validated = JSON.parse(results[3].data.result_json);
    assert.equal(validated.ok, true);
    assert.equal(validated.validate_only, true);
    // validate_patch never reaches the tab; apply_patch does, once.
    assert.equal(ed.patches.length, 1);
    assert.equal(ed.patches[0].commands.length, 16);

    // The editor holds the workflow the script asked for.
    const view = editorView(ed);
    assert.equal(Object.keys(view.nodes).length, 7);
    for (const [ref, type] of Object.entries(TXT2IMG_TYPES)) {
      const node = view.nodes[applied.refs[ref]];
      assert.equal(node?.type, type, `node ${ref}`);
      for (const [w, v] of Object.entries(TXT2IMG_WIDGETS[ref])) assert.equal(node.widgets[w], v, `${ref}.${w}`);
    }
    assert.equal(view.links.length, TXT2IMG_LINKS.length);
    for (const [from, , to, input] of TXT2IMG_LINKS) {
      const target = view.nodes[applied.refs[to]];
      const slot = target.inputs.find((i) => i.name === input);
      const link = view.links.find((l) => l[0] === slot.link);
      assert.equal(link?.[1], applied.refs[from], `${from} -> ${to}.${input}`);
    }
    const g = await post(stack, "/comfy/graph/command", { type: "get_graph" });
    assertSameGraph(g.json.graph, ed);

    // What the model was sent: the skill's tools, the canvas note, then each
    // result as a tool message.
    const reqs = llm.requests().filter((r) => r.model === "agent-build");
    assert.equal(reqs.length, 6);
    assert.deepEqual(reqs[0].body.tools.map((t) => t.function.name), TOOLS);
    assert.match(systemText(reqs[0]), /## Canvas\n\nCanvas "tab-1" \(agent canvas\) is at revision \d+ with 0 nodes and 0 links\./);
    const outline = JSON.parse(toolMessages(reqs[1])[0].content);
    assert.equal(outline.canvas_id, "tab-1");
    assert.equal(outline.node_count, 0);
    const schema = JSON.parse(toolMessages(reqs[2]).find((m) => m.tool_call_id === "call_schema").content);
    assert.equal(schema.name, "KSampler");
    const verify = JSON.parse(toolMessages(reqs[5]).at(-1).content);
    assert.equal(verify.node_count, 7);
    assert.equal(verify.link_count, 9);
    const ks = verify.nodes.find((l) => l.startsWith(`#${applied.refs.sampler} KSampler`));
    assert.match(ks, /steps=28 cfg=6\.5 sampler_name="dpmpp_2m"/);

    // The user moves the sampler; the next turn's note says so.
    await ed.userEdit((graph) => {
      graph.getNodeById(applied.refs.sampler).pos = [1500, 420];
    });
    const t2 = await s.send(sid, "Anything new?");
    const evs2 = await s.turnEnd(t2.from);
    assert.equal(repliesOf(evs2)["workflow-builder"]?.state, "done");
    const last = llm.requests().filter((r) => r.model === "agent-build").at(-1);
    const note = systemText(last);
    assert.match(note, /the user made 1 change:\n- moved #\d+ KSampler/, note);
    assert.doesNotMatch(note, /create_node|set_widget/);
    s.close();
  });
});
