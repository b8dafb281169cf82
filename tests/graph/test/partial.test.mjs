// A tab that fails one command of a patch the core found valid (the real
// tab refuses values its widgets will not take). In PARTIAL mode the tab
// keeps the other commands: the core commits the tab's post-state, answers
// each command (the failed one with the tab's error), and its mirror equals
// the tab's graph, on time or late. In ATOMIC mode the tab rolls back and
// the mirror stays as it was.

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectGraphOk, expectStatus } from "../lib/harness.mjs";
import { post } from "../lib/clients.mjs";
import { txt2imgCommands, codeName, assertSameGraph, editorView } from "../lib/graph.mjs";
import { waitFor } from "../lib/stack.mjs";

// The value this tab's seed widget refuses (the core accepts it).
const REFUSED = 4242;
const refuse = (cmd) =>
  cmd.type === "set_widget" && cmd.name === "seed" && cmd.value === REFUSED ? `seed: this tab refuses ${REFUSED}` : null;

describe("a command the tab fails", () => {
  const h = useStack();
  const it = itWithLogs(h);

  const graphOf = async (canvasId) =>
    expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: canvasId }));

  // An editor with the txt2img workflow; returns it with the refs.
  async function setup(canvasId, opts = {}) {
    const ed = await h.stack.editor({ canvasId, focused: false, refuse, ...opts });
    const r = expectGraphOk(await post(h.stack, "/comfy/graph/batch", { commands: txt2imgCommands(), canvas_id: canvasId }));
    return { ed, refs: Object.fromEntries(Object.entries(r.refs).map(([k, v]) => [k, Number(v)])) };
  }

  const batch = (refs) => [
    { type: "move_node", node_id: refs.latent, x: 40, y: 900 },
    { type: "set_widget", node_id: refs.sampler, name: "seed", value: REFUSED },
    { type: "set_widget", node_id: refs.sampler, name: "steps", value: 12 },
    { type: "create_node", node_type: "VAEDecode", ref: "d2", x: 1800, y: 0 },
  ];

  it("partial: the others stay, each command is answered, the mirror is the tab's graph", async () => {
    const { ed, refs } = await setup("tab-partial");
    const rev = Number((await graphOf("tab-partial")).revision);
    const r = await post(h.stack, "/comfy/graph/batch", { canvas_id: "tab-partial", mode: "partial", commands: batch(refs) });
    const body = expectStatus(r, 422, "VALUE_INVALID");
    assert.equal(body.ok, false);
    assert.deepEqual(body.results.map((x) => x.ok === true), [true, false, true, true]);
    assert.equal(codeName(body.results[1].error.code), "VALUE_INVALID");
    assert.match(body.results[1].error.message, /this tab refuses 4242/);
    assert.equal(body.errors.length, 1, JSON.stringify(body.errors));
    assert.equal(Number(body.results[2].value?.integer ?? body.results[2].value), 12);
    const created = Number(body.results[3].node_id);
    assert.ok(created > 0, "the created node's id");
    assert.equal(Number(body.refs.d2), created);
    assert.ok(Number(body.revision) > rev, "a new revision");
    // The tab kept the valid commands.
    assert.equal(ed.widgetsOf(refs.sampler).steps, 12);
    assert.equal(ed.widgetsOf(refs.sampler).seed, 123456789);
    assert.deepEqual([...ed.graph.getNodeById(refs.latent).pos], [40, 900]);
    assert.ok(ed.graph.getNodeById(created));
    // And the core's mirror is that graph.
    const g = await graphOf("tab-partial");
    assert.equal(Number(g.revision), Number(body.revision));
    assertSameGraph(g.graph, ed);
    await ed.close();
  });

  it("partial, answered after the deadline: the late state is committed all the same", async () => {
    const { ed, refs } = await setup("tab-late");
    ed.opts.delayMs = 800;
    const r = await post(h.stack, "/comfy/graph/batch", {
      canvas_id: "tab-late", mode: "partial", timeout_ms: 200, commands: batch(refs),
    });
    expectStatus(r, 504, "EDITOR_TIMEOUT");
    await waitFor(() => ed.widgetsOf(refs.sampler).steps === 12, 10000, "the tab applied the patch");
    await waitFor(
      async () => {
        const g = await graphOf("tab-late");
        return (g.graph.nodes ?? []).length === 8;
      },
      10000,
      "the late post-state in the mirror",
    );
    assertSameGraph((await graphOf("tab-late")).graph, ed);
    await ed.close();
  });

  it("atomic: the tab rolls back, the batch is refused, the mirror is unchanged", async () => {
    const { ed, refs } = await setup("tab-atomic");
    const before = editorView(ed);
    const g0 = await graphOf("tab-atomic");
    const r = await post(h.stack, "/comfy/graph/batch", { canvas_id: "tab-atomic", commands: batch(refs) });
    const body = expectStatus(r, 502, "EDITOR_FAILED");
    assert.match(JSON.stringify(body), /this tab refuses 4242/);
    assert.equal(ed.patches.length, 2, "the tab got the patch");
    // (LiteGraph recomputes the nodes' execution order on configure, so
    // the graph is compared, not its serialization.)
    assert.deepEqual(editorView(ed), before, "rolled back in the tab");
    const g = await graphOf("tab-atomic");
    assert.equal(Number(g.revision), Number(g0.revision));
    assert.deepEqual(g.graph, g0.graph);
    assertSameGraph(g.graph, ed);
    await ed.close();
  });
});
