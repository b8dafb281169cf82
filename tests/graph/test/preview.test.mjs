// Preview before apply (docs/concurrent-editing.md): a patch sent with
// apply_mode "preview" reaches the tab as a preview (nothing applied), the
// caller's answer waits for the user's decision; accepted, it is validated
// again against the graph as it is then and applied as one patch (one
// revision, the usual results); rejected or timed out, nothing changes and
// the answer says so (a result, not a transport error).

import assert from "node:assert/strict";
import { describe } from "node:test";
import { useStack, itWithLogs, expectGraphOk, expectOk, expectStatus } from "../lib/harness.mjs";
import { post, GraphWs } from "../lib/clients.mjs";

const CANVAS = "tab-1:preview";

const outcome = (j) => String(j?.preview?.outcome ?? "").toLowerCase().replace(/^preview_outcome_/, "");

describe("preview before apply", () => {
  const h = useStack();
  const it = itWithLogs(h);
  let ed;
  let refs;

  const graphOf = async (id = CANVAS) =>
    expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: id })).graph;
  const batch = (body) => post(h.stack, "/comfy/graph/batch", { canvas_id: CANVAS, ...body });
  const widget = (g, id, name) => {
    const n = g.nodes.find((x) => Number(x.id) === Number(id));
    const w = n?.widgets?.find((x) => x.name === name);
    return w?.value?.number ?? w?.value?.integer ?? w?.value?.text ?? w?.value;
  };

  it("a tab that can show previews attaches; a patch without apply_mode applies at once", async () => {
    ed = await h.stack.editor({ canvasId: CANVAS, title: "preview", preview: "manual" });
    const r = expectGraphOk(
      await batch({
        commands: [
          { type: "create_node", node_type: "KSampler", ref: "ks", x: 600, y: 0 },
          { type: "create_node", node_type: "EmptyLatentImage", ref: "lat", x: 0, y: 0 },
          { type: "create_node", node_type: "EmptyLatentImage", ref: "lat2", x: 0, y: 300 },
        ],
      }),
    );
    refs = r.refs;
    assert.equal(r.preview, undefined, "no preview for an ordinary patch");
    assert.equal(ed.previews.length, 0);
  });

  it("accepted: nothing applied while it waits, then one revision with the usual results", async () => {
    const before = await graphOf();
    const np = ed.patches.length;
    const pending = batch({
      apply_mode: "preview",
      commands: [
        { type: "create_node", node_type: "EmptyLatentImage", ref: "new", x: 0, y: 600 },
        { type: "connect", from_id: "new", from_slot: 0, to_id: Number(refs.ks), to_slot: "latent_image" },
        { type: "set_widget", node_id: Number(refs.ks), name: "steps", value: 31 },
      ],
    });
    const shown = await ed.nextPreview();
    // What the overlay shows: a ghost node, a ghost link, a changed widget.
    assert.equal(shown.view.ghosts.length, 1);
    assert.equal(shown.view.ghosts[0].type, "EmptyLatentImage");
    assert.equal(shown.view.links.length, 1);
    assert.deepEqual(
      shown.view.widgets.map((w) => [Number(w.node_id), w.name, w.to]),
      [[Number(refs.ks), "steps", 31]],
    );
    assert.equal(shown.view.destructive, false);
    assert.equal(ed.patches.length, np, "nothing reached the tab as a patch before the decision");
    const during = await graphOf();
    assert.equal(Number(during.revision), Number(before.revision));
    assert.equal(during.nodes.length, before.nodes.length);
    ed.decidePreview(shown.msg.request_id, true);
    const r = expectGraphOk(await pending);
    assert.equal(outcome(r), "accepted", JSON.stringify(r));
    assert.equal(r.preview.decided_by, "tab");
    assert.equal(Number(r.revision), Number(before.revision) + 1, "one revision");
    assert.ok(Number(r.refs.new) > 0, "refs as for any patch");
    assert.equal(ed.patches.length, np + 1, "applied as one patch (one undo step in the tab)");
    const after = await graphOf();
    assert.equal(after.nodes.length, before.nodes.length + 1);
    assert.equal(Number(widget(after, refs.ks, "steps")), 31);
    assert.equal(Number(ed.widgetsOf(refs.ks).steps), 31, "the tab applied it");
  });

  it("rejected: nothing changes, the answer says rejected", async () => {
    const before = await graphOf();
    const np = ed.patches.length;
    const pending = batch({
      apply_mode: "preview",
      commands: [
        { type: "remove_node", node_id: Number(refs.lat2) },
        { type: "set_widget", node_id: Number(refs.ks), name: "steps", value: 7 },
      ],
    });
    const shown = await ed.nextPreview();
    assert.deepEqual(shown.view.removed, [Number(refs.lat2)], "the removed node is shown dimmed");
    assert.equal(shown.view.destructive, true);
    ed.decidePreview(shown.msg.request_id, false);
    const res = await pending;
    expectOk(res);
    const r = res.json;
    assert.equal(r.ok, false);
    assert.equal(outcome(r), "rejected", JSON.stringify(r));
    assert.equal(Number(r.revision), Number(before.revision));
    assert.equal(ed.patches.length, np, "nothing was sent to the tab");
    const after = await graphOf();
    assert.equal(Number(after.revision), Number(before.revision));
    assert.equal(after.nodes.length, before.nodes.length);
    assert.equal(Number(widget(after, refs.ks, "steps")), 31);
  });

  it("timed out: nothing changes, the answer says timed_out, a late decision is ignored", async () => {
    const before = await graphOf();
    const np = ed.patches.length;
    const t0 = Date.now();
    const pending = batch({
      apply_mode: "preview",
      preview_timeout_ms: 1500,
      commands: [{ type: "set_widget", node_id: Number(refs.ks), name: "steps", value: 8 }],
    });
    const shown = await ed.nextPreview();
    const res = await pending;
    expectOk(res);
    assert.equal(res.json.ok, false);
    assert.equal(outcome(res.json), "timed_out", JSON.stringify(res.json));
    assert.ok(Date.now() - t0 >= 1400, "it waited for the preview's timeout");
    ed.decidePreview(shown.msg.request_id, true);
    // The next request goes through: the queue was not held.
    const r2 = expectGraphOk(await post(h.stack, "/comfy/graph/command", { type: "get_graph", canvas_id: CANVAS }));
    assert.equal(Number(r2.graph.revision), Number(before.revision));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ed.patches.length, np, "the late accept applied nothing");
    assert.equal(Number(widget(await graphOf(), refs.ks, "steps")), 31);
  });

  it("accepted after the user removed its node: validated again, refused, nothing applied", async () => {
    const np = ed.patches.length;
    const pending = batch({
      apply_mode: "preview",
      commands: [{ type: "set_widget", node_id: Number(refs.lat2), name: "width", value: 768 }],
    });
    const shown = await ed.nextPreview();
    await ed.userEdit((g) => g.remove(g.getNodeById(Number(refs.lat2))));
    const before = await graphOf();
    ed.decidePreview(shown.msg.request_id, true);
    const res = await pending;
    // An accepted preview answers like any patch: a refused one is an error.
    expectStatus(res, 422, "NODE_NOT_FOUND");
    assert.equal(res.json.ok, false);
    assert.equal(outcome(res.json), "accepted");
    assert.equal(ed.patches.length, np, "nothing was sent to the tab");
    assert.equal(Number((await graphOf()).revision), Number(before.revision));
  });

  it("accepted after a user edit elsewhere: rebased onto it and applied", async () => {
    const r0 = Number((await graphOf()).revision);
    const pending = batch({
      apply_mode: "preview",
      base_revision: r0,
      commands: [{ type: "set_widget", node_id: Number(refs.ks), name: "cfg", value: 5.5 }],
    });
    const shown = await ed.nextPreview();
    await ed.userEdit((g) => {
      g.getNodeById(Number(refs.lat)).pos = [40, 40];
    });
    ed.decidePreview(shown.msg.request_id, true);
    const r = expectGraphOk(await pending);
    assert.equal(outcome(r), "accepted");
    assert.equal(r.rebased, true);
    assert.equal(Number(r.rebased_from), r0);
    assert.equal(Number(r.revision), r0 + 2);
    assert.equal(Number(ed.widgetsOf(refs.ks).cfg), 5.5);
  });

  it("a tab that cannot show previews: preview is unavailable, preview_if_shown applies at once", async () => {
    const other = await h.stack.editor({ canvasId: "tab-2:nopreview", title: "no preview" });
    const mk = { type: "create_node", node_type: "EmptyLatentImage", x: 0, y: 0 };
    const res = await post(h.stack, "/comfy/graph/batch", { canvas_id: "tab-2:nopreview", apply_mode: "preview", commands: [mk] });
    expectOk(res);
    assert.equal(res.json.ok, false);
    assert.equal(outcome(res.json), "unavailable");
    assert.equal(other.patches.length, 0);
    const r = expectGraphOk(
      await post(h.stack, "/comfy/graph/batch", { canvas_id: "tab-2:nopreview", apply_mode: "preview_if_shown", commands: [mk] }),
    );
    assert.equal(r.preview, undefined);
    assert.equal(other.patches.length, 1);
    other.close();
  });

  it("over the graph WebSocket: a single command previewed, rejected, answered ok with the outcome", async () => {
    const gws = await GraphWs.open(h.stack);
    try {
      const before = await graphOf();
      const pending = gws.request({ type: "set_widget", canvas_id: CANVAS, node_id: Number(refs.ks), name: "steps", value: 3, apply_mode: "preview" });
      const shown = await ed.nextPreview();
      assert.equal(shown.view.widgets[0].to, 3);
      ed.decidePreview(shown.msg.request_id, false);
      const a = await pending;
      assert.equal(a.status, "ok", JSON.stringify(a));
      assert.equal(a.data.ok, false);
      assert.equal(outcome(a.data), "rejected");
      assert.equal(Number((await graphOf()).revision), Number(before.revision));
    } finally {
      gws.close();
    }
  });

  it("bad preview settings are refused with a clear message", async () => {
    const res = await batch({ apply_mode: "preview", preview_timeout_ms: 600001, commands: [{ type: "clear_graph" }] });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.match(JSON.stringify(res.json), /preview_timeout_ms/);
  });
});
