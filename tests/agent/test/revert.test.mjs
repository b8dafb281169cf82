// Revert with the canvas: an agent turn (workflow-builder on the scripted
// model, tests/llm/scripts/agent-build.json) adds the txt2img nodes to a
// canvas that already holds a workflow; the session keeps the workflow from
// before the turn as a checkpoint. A revert that asks for the canvas is
// refused with STALE_REVISION and the list of the user's changes once the
// user edited after the turn, nothing changed; after a restart of the core
// the checkpoint is still there, and a forced revert hides the turn's
// replies and puts the headless editor's graph back exactly as it was
// before the turn, through the normal load path (one load in the tab, the
// core's mirror equal to the editor).

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { useStack, itWithLogs } from "../../graph/lib/harness.mjs";
import { get, post } from "../../graph/lib/clients.mjs";
import { assertSameGraph, editorView } from "../../graph/lib/graph.mjs";
import { waitFor } from "../../graph/lib/stack.mjs";
import { SessionWs, fixtureWorkflow, repliesOf, startFakeLlm } from "../lib.mjs";

const CANVAS = "tab-revert";

async function exported(stack, sid) {
  const r = await get(stack, `/comfy/sessions/${sid}/export?format=json`);
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
}

describe("revert restores the canvas checkpoint", () => {
  const holder = useStack();
  const it = itWithLogs(holder);
  let llm;
  before(async () => {
    llm = await startFakeLlm(holder.stack.root);
  });
  after(() => llm?.stop());

  it("checkpoint, STALE_REVISION after a user edit, restart, forced restore", async () => {
    const stack = holder.stack;
    const ed = await stack.editor({ canvasId: CANVAS, title: "revert canvas", workflow: fixtureWorkflow(), reconnect: true });
    const beforeTurn = editorView(ed);
    assert.equal(Object.keys(beforeTurn.nodes).length, 7);

    const s = await SessionWs.open(stack);
    const sid = await s.createSession({ model: "agent-build", skills: ["workflow-builder"], baseUrl: llm.baseUrl });
    const { turnId, from } = await s.send(sid, `Build a text-to-image workflow on ${CANVAS}.`);
    const evs = await s.turnEnd(from);
    assert.equal(repliesOf(evs)["workflow-builder"]?.state, "done", JSON.stringify(repliesOf(evs)));
    assert.equal(Object.keys(editorView(ed).nodes).length, 14);
    const afterTurn = editorView(ed);

    // One checkpoint: the turn's, of this canvas, from before its patch.
    const cps = await get(stack, `/comfy/sessions/${sid}/checkpoints`);
    assert.equal(cps.status, 200, cps.text);
    assert.equal(cps.json.checkpoints.length, 1, cps.text);
    const cp = cps.json.checkpoints[0];
    assert.equal(Number(cp.message_id), turnId);
    assert.equal(cp.canvas_id, CANVAS);
    assert.ok(Number(cp.revision_after) > Number(cp.revision_before), cps.text);
    assert.ok(Number(cp.bytes) > 1000, cps.text);

    // The user moves a node: the canvas is no longer where the turn left
    // it, so a restore is refused and names the change; nothing changes.
    const moved = Number(Object.keys(afterTurn.nodes).at(-1));
    await ed.userEdit((graph) => {
      graph.getNodeById(moved).pos = [2222, 333];
    });
    const messagesBefore = (await exported(stack, sid)).messages.length;
    assert.ok(messagesBefore >= 2);
    const stale = await post(stack, `/comfy/sessions/${sid}/revert`, { message_id: turnId, restore_canvas: true });
    assert.equal(stale.status, 409, stale.text);
    assert.match(stale.json.message ?? stale.text, /STALE_REVISION/);
    assert.match(stale.json.message ?? stale.text, /moved #\d+/);
    assert.match(stale.json.message ?? stale.text, /force/);
    assert.equal(Object.keys(editorView(ed).nodes).length, 14);
    assert.equal((await exported(stack, sid)).messages.length, messagesBefore);
    assert.equal(ed.loads.length, 0);

    // Bad input on the HTTP route: clear statuses, the core stays up.
    const bad = await post(stack, `/comfy/sessions/${sid}/revert`, { message_id: 987654321, restore_canvas: true });
    assert.equal(bad.status, 404, bad.text);
    const badField = await post(stack, `/comfy/sessions/${sid}/revert`, { message_id: turnId, nonsense: 1 });
    assert.equal(badField.status, 400, badField.text);
    s.close();

    // The checkpoint survives a restart of the core.
    assert.equal(await stack.stopCore(), 0);
    await stack.startCore();
    await waitFor(
      async () => {
        const r = await post(stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS });
        return r.status === 200 && r.json.graph && r.json.graph.stale !== true;
      },
      30000,
      "canvas attached again",
    );
    const cps2 = await get(stack, `/comfy/sessions/${sid}/checkpoints`);
    assert.equal(cps2.status, 200, cps2.text);
    assert.deepEqual(cps2.json.checkpoints.map((c) => c.id), [cp.id]);

    // Forced: the replies are hidden and the canvas is as before the turn.
    const s2 = await SessionWs.open(stack);
    const from2 = s2.events.length;
    s2.ws.send(JSON.stringify({ event: "join", data: { session_id: sid } }));
    await s2.waitFor((e) => e.event === "sync_state", "sync_state", { from: from2 });
    const r = await post(stack, `/comfy/sessions/${sid}/revert`, { message_id: turnId, restore_canvas: true, force: true });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.messages_hidden >= 1, r.text);
    assert.equal(r.json.restored.length, 1, r.text);
    assert.equal(r.json.restored[0].canvas_id, CANVAS);
    assert.equal(r.json.restored[0].checkpoint_revision, cp.revision_before);
    assert.deepEqual(editorView(ed), beforeTurn);
    assert.equal(ed.loads.length, 1);
    assert.equal(ed.loads[0].undo_step, true, "the tab applies the restore as one undo step");
    const g = await post(stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS });
    assertSameGraph(g.json.graph, ed);
    const ev = await s2.waitFor((e) => e.event === "reverted", "reverted event", { from: from2 });
    assert.equal(Number(ev.data.to_message_id), turnId);
    assert.equal(ev.data.restored[0].canvas_id, CANVAS);
    const doc = await exported(stack, sid);
    assert.equal(doc.messages.length, 1, JSON.stringify(doc.messages));
    assert.equal(Number(doc.messages[0].id), turnId);

    // Undone on the session WebSocket: the replies are back (the canvas
    // stays restored: Ctrl+Z in the tab undoes that), every subscriber is
    // told, and a second un-revert has nothing left to undo.
    const fromU = s2.events.length;
    const un = await s2.request("unrevert", { session_id: sid });
    assert.equal(un.event, "unrevert_result");
    assert.equal(un.data.messages_restored, r.json.messages_hidden);
    const uev = await s2.waitFor((e) => e.event === "unreverted", "unreverted event", { from: fromU });
    assert.equal(uev.data.messages.length, r.json.messages_hidden);
    assert.ok(uev.data.messages.every((m) => Number(m.id) > turnId));
    assert.equal((await exported(stack, sid)).messages.length, 1 + r.json.messages_hidden);
    assert.deepEqual(editorView(ed), beforeTurn);
    await assert.rejects(s2.request("unrevert", { session_id: sid }), /FAILED_PRECONDITION.*no revert to undo/);
    s2.close();
  });
});
