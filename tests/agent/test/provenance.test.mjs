// Provenance of a skill's edits (docs/provenance.md): what workflow-builder
// builds from its scripted tool calls (tests/llm/scripts/agent-build.json) is
// recorded as that session's skill on every node, widget and link, and the
// audit names the skill for each change; a later edit by the user in the
// tab is the user's.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs, expectOk, expectGraphOk } from "../../graph/lib/harness.mjs";
import { get, post } from "../../graph/lib/clients.mjs";
import { SessionWs, repliesOf, startFakeLlm } from "../lib.mjs";

const CANVAS = "tab-1";

describe("provenance of a skill's edits", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("nodes, widgets and links built by a skill name the session and the skill", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: CANVAS, title: "agent canvas" });
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-build", skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    const { from } = await s.send(sid, "Build a text-to-image workflow.");
    const reply = repliesOf(await s.turnEnd(from))["workflow-builder"];
    assert.equal(reply?.state, "done", JSON.stringify(reply));

    const g = expectGraphOk(await post(stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS })).graph;
    assert.equal(g.nodes.length, 7);
    const skill = { kind: "ACTOR_KIND_SKILL", session_id: sid, skill: "workflow-builder", name: "" };
    for (const n of g.nodes) {
      assert.deepEqual(n.provenance?.actor, skill, JSON.stringify(n));
      assert.equal(Number(n.provenance.revision), Number(g.revision));
      for (const w of n.widgets) if (!w.name.startsWith("#")) assert.deepEqual(w.provenance?.actor, skill, `${n.type}.${w.name}`);
    }
    assert.equal(g.links.length, 9);
    for (const l of g.links) assert.deepEqual(l.provenance?.actor, skill);

    // The user moves a node; the audit of that node lists both, newest first.
    const ks = g.nodes.find((n) => n.type === "KSampler").id;
    await ed.userEdit((graph) => {
      graph.getNodeById(Number(ks)).pos = [5, 5];
    });
    const a = expectOk(await get(stack, `/comfy/graph/audit?canvas_id=${CANVAS}&node_id=${ks}`));
    assert.equal(a.ops[0].actor.kind, "ACTOR_KIND_USER");
    assert.equal(a.ops[0].command.type, "move_node");
    assert.ok(a.ops.length > 1);
    for (const o of a.ops.slice(1)) assert.deepEqual(o.actor, skill, JSON.stringify(o));
    s.close();
  });
});
