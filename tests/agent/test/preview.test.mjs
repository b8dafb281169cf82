// A skill's preview policy (docs/concurrent-editing.md): workflow-builder
// has the default, confirm-destructive. On a tab that can show previews its
// patch that only adds a node is applied at once, its clear_graph is
// previewed first; the user rejects it and the skill's tool result says so
// (a result the model reads, not a hang). The scripted model is
// tests/llm/scripts/agent-preview.json.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { SessionWs, eventsOf, repliesOf, startFakeLlm } from "../lib.mjs";

describe("a skill's patches under confirm-destructive", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("adds at once, asks before clearing; the rejection is the tool's result", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: "tab-1", title: "preview canvas", preview: "reject" });
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-preview", skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    const { from } = await s.send(sid, "Add a latent, then clear the canvas.");
    const evs = await s.turnEnd(from);
    const reply = repliesOf(evs)["workflow-builder"];
    assert.equal(reply?.state, "done", JSON.stringify(reply));
    const results = eventsOf(evs, "tool_result", "workflow-builder").map((e) => JSON.parse(e.data.result_json));
    assert.equal(results.length, 2);
    assert.equal(results[0].ok, true, JSON.stringify(results[0]));
    assert.equal(results[0].preview, undefined, "a patch without destructive commands is not previewed");
    assert.equal(results[1].ok, false);
    assert.equal(results[1].preview.outcome, "rejected", JSON.stringify(results[1]));
    // The tab saw one patch (the add) and one preview (the clear).
    assert.equal(ed.patches.length, 1);
    assert.equal(ed.previews.length, 1);
    assert.deepEqual(ed.previews[0].msg.commands.map((c) => c.type), ["clear_graph"]);
    assert.match(ed.previews[0].msg.requested_by, /skill workflow-builder/);
    assert.equal(ed.serialize().nodes.length, 1, "the clear was not applied");
    s.close();
  });

  it("a tab that cannot show previews gets the clear at once (nobody to ask)", async () => {
    const stack = holder.stack;
    // The script again from its first step.
    await fetch(`http://127.0.0.1:${llm.port}/_reset`, { method: "POST", body: "{}" });
    const ed = await stack.editor({ canvasId: "tab-2", title: "plain canvas", focused: true });
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-preview", skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    const { from } = await s.send(sid, "Add a latent, then clear the canvas.");
    const evs = await s.turnEnd(from);
    const results = eventsOf(evs, "tool_result", "workflow-builder").map((e) => JSON.parse(e.data.result_json));
    assert.equal(results.length, 2);
    assert.equal(results[1].ok, true, JSON.stringify(results[1]));
    assert.equal(results[1].preview, undefined);
    assert.equal(ed.patches.length, 2);
    assert.equal(ed.previews.length, 0);
    assert.equal(ed.serialize().nodes.length, 0);
    s.close();
  });
});

// A user skill whose SKILL.md says `preview: auto`: the same clear_graph is
// applied at once on the tab that can show previews.
const SKILLS = mkdtempSync(path.join(tmpdir(), "comfyd-preview-skills-"));
mkdirSync(path.join(SKILLS, "careless-builder"));
writeFileSync(
  path.join(SKILLS, "careless-builder", "SKILL.md"),
  "---\nname: careless-builder\ndescription: Edits the canvas without asking.\npreview: auto\n---\nEdit the canvas as asked.\n",
);

describe("a skill with preview: auto", () => {
  const holder = useStack({ coreArgs: ["--skills", SKILLS] });
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("clears at once on a tab that could show a preview", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: "tab-1", title: "auto canvas", preview: "reject" });
    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-preview", skills: ["careless-builder"], baseUrl: llm.baseUrl });
    const { from } = await s.send(sid, "Add a latent, then clear the canvas.");
    const evs = await s.turnEnd(from);
    const results = eventsOf(evs, "tool_result", "careless-builder").map((e) => JSON.parse(e.data.result_json));
    assert.equal(results.length, 2, JSON.stringify(evs.map((e) => e.kind)));
    assert.equal(results[1].ok, true, JSON.stringify(results[1]));
    assert.equal(ed.previews.length, 0);
    assert.equal(ed.patches.length, 2);
    assert.equal(ed.serialize().nodes.length, 0);
    s.close();
  });
});
